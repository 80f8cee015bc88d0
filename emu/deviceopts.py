"""QEMU's -drive, -device and -object for the virt board's virtio-mmio devices.

    -drive file=F,format=raw,if=none,id=ID[,readonly=on][,snapshot=on][,cache=..][,discard=..]
    -device virtio-blk-device,drive=ID[,serial=S][,id=X]
    -device virtio-rng-device[,seed=N][,rng=ID][,id=X]   deterministic unless rng= names
    -object rng-random,id=ID[,filename=/dev/urandom]      one of these (host entropy)
    -object rng-builtin,id=ID
    -device virtio-serial-device[,id=X]                   virtio-console, with ports:
    -device virtconsole,chardev=ID[,name=N][,nr=K]        a console port (hvc0)
    -device virtserialport,chardev=ID,name=N[,nr=K]       a named port
    -snapshot                     every drive's writes go to a throw-away overlay

parse_drive / parse_device turn an option's value into a dict (UsageError with QEMU's
wording where QEMU has one); plug_devices(vm, drives, devices, snapshot) opens the
drives and plugs the devices in command-line order (the first into the highest
transport, as QEMU's bus does).  A drive no device uses stays closed (QEMU: unused).
"""
from pyaarch64.errors import Error

DRIVE_KEYS = {"file", "format", "if", "id", "readonly", "snapshot", "cache", "discard",
              "media", "aio", "werror", "rerror", "detect-zeroes", "index", "unit"}
ONOFF = {"on": True, "off": False, "true": True, "false": False, "yes": True, "no": False}
DEVICES = {
    "virtio-blk-device": "virtio block device (drive=ID, serial=S)",
    "virtio-rng-device": "virtio RNG (deterministic: seed=N; host entropy: rng=ID of an -object rng-*)",
    "virtio-serial-device": "virtio serial (virtio-console) device: ports are virtconsole/virtserialport",
    "virtconsole": "a console port of virtio-serial-device (chardev=ID, name=N, nr=K)",
    "virtserialport": "a port of virtio-serial-device (chardev=ID, name=N, nr=K)",
}
OBJECTS = ("rng-random", "rng-builtin")


class BlockOptError(Error, ValueError):
    pass


def _kv(val):
    out = {}
    for part in val.split(","):
        if not part:
            continue
        k, _, v = part.partition("=")
        out[k] = v if "=" in part else "on"
    return out


def _onoff(opt, key, v):
    if v not in ONOFF:
        raise BlockOptError(f"{opt}: Parameter '{key}' expects 'on' or 'off'")
    return ONOFF[v]


def parse_drive(val, n):
    """-drive VALUE (the n-th) -> {"id", "file", "readonly", "snapshot"}."""
    kv = _kv(val)
    opt = f"-drive {val}"
    for k in kv:
        if k not in DRIVE_KEYS:
            raise BlockOptError(f"{opt}: Invalid parameter '{k}'")
    if "file" not in kv or not kv["file"]:
        raise BlockOptError(f"{opt}: a drive needs file=IMAGE (empty drives are not supported)")
    fmt = kv.get("format")
    if fmt is not None and fmt != "raw":
        raise BlockOptError(f"{opt}: format '{fmt}' is not supported (raw images only)")
    iface = kv.get("if", "virtio")
    if iface == "virtio":
        raise BlockOptError(f"{opt}: if=virtio (the virt board's default) is a virtio-blk PCI "
                            f"device in QEMU, and this board has no PCI: use if=none,id=ID "
                            f"with -device virtio-blk-device,drive=ID")
    if iface == "pflash":
        raise BlockOptError(f"{opt}: if=pflash is not supported yet")
    if iface != "none":
        raise BlockOptError(f"{opt}: interface if={iface} is not available on this board "
                            f"(use if=none with -device virtio-blk-device)")
    if kv.get("media", "disk") != "disk":
        raise BlockOptError(f"{opt}: media={kv['media']} is not supported (disk only)")
    return {"id": kv.get("id", f"none{n}"), "file": kv["file"], "format": fmt, "opt": opt,
            "readonly": _onoff(opt, "readonly", kv.get("readonly", "off")),
            "snapshot": _onoff(opt, "snapshot", kv.get("snapshot", "off"))}


def parse_device(val):
    kv = _kv(val)
    driver = val.split(",")[0]
    if driver == "help":
        return {"driver": "help"}
    if driver.startswith("driver="):
        driver = driver[len("driver="):]
    kv.pop(val.split(",")[0], None)
    if driver not in DEVICES:
        raise BlockOptError(f"-device {val}: '{driver}' is not a valid device model name "
                            f"(-device help lists them)")
    allowed = {"virtio-blk-device": ("drive", "serial", "id"),
               "virtio-rng-device": ("seed", "rng", "id"),
               "virtio-serial-device": ("id",),
               "virtconsole": ("chardev", "name", "nr", "id"),
               "virtserialport": ("chardev", "name", "nr", "id")}[driver]
    for k in kv:
        if k not in allowed:
            raise BlockOptError(f"-device {val}: property '{k}' not found")
    if driver == "virtio-blk-device" and "drive" not in kv:
        raise BlockOptError(f"-device {val}: drive property not set")
    if "nr" in kv:
        try:
            kv["nr"] = int(kv["nr"], 0)
            if not 0 <= kv["nr"] < 31:
                raise ValueError
        except ValueError:
            raise BlockOptError(f"-device {val}: nr={kv['nr']}: a port number from 0 to 30") \
                from None
    if "seed" in kv:
        try:
            kv["seed"] = int(kv["seed"], 0)
            if not 0 <= kv["seed"] < 1 << 64:
                raise ValueError
        except ValueError:
            raise BlockOptError(f"-device {val}: seed={kv['seed']}: an integer from 0 "
                                f"to 2**64-1") from None
    return dict(kv, driver=driver)


def parse_object(val):
    kind = val.split(",")[0]
    kv = _kv(val)
    kv.pop(kind, None)
    if kind.startswith("qom-type="):
        kind = kind[len("qom-type="):]
    if kind not in OBJECTS:
        raise BlockOptError(f"-object {val}: object type '{kind}' is not available "
                            f"(only {', '.join(OBJECTS)})")
    for k in kv:
        if k not in ("id", "filename"):
            raise BlockOptError(f"-object {val}: Property '{kind}.{k}' not found")
    if "id" not in kv:
        raise BlockOptError(f"-object {val}: Parameter 'id' is missing")
    if kind == "rng-random" and kv.get("filename", "/dev/urandom") not in (
            "/dev/urandom", "/dev/random"):
        raise BlockOptError(f"-object {val}: only /dev/urandom or /dev/random")
    return dict(kv, kind=kind)


def device_help():
    return "".join(f'name "{n}", bus virtio-bus, desc "{d}"\n' for n, d in DEVICES.items())


def plug_devices(vm, drives, devices, snapshot=False, warn=None, objects=()):
    """Open `drives` and plug `devices` into vm; returns {drive id: Drive}.  A drive
    serves one device at most (as QEMU)."""
    from pyaarch64.machine.blockdev import Drive, DriveError, DriveLocked
    from pyaarch64.machine.virtio.blk import VirtioBlk
    from pyaarch64.machine.virtio.rng import VirtioRng
    from pyaarch64.machine.virt_devices import plug_virtio
    from pyaarch64.machine.virtio.console import VirtioSerial, Port
    objs = {o["id"]: o for o in objects}
    serial = None
    # (VirtioSerial, Port, chardev id): the CLI wires them
    vm.serial_ports = getattr(vm, "serial_ports", [])
    by_id = {}
    for d in drives:
        if d["id"] in by_id or d["id"] in getattr(vm, "drives", {}):
            raise BlockOptError(f"-drive id={d['id']}: Duplicate ID '{d['id']}' for drive")
        by_id[d["id"]] = d
    opened, used = {}, set()
    try:
        for index, dev in enumerate(devices):
            if dev["driver"] == "virtio-serial-device":
                serial = VirtioSerial()
                serial.qdev_id = dev.get("id", "")
                plug_virtio(vm, serial)
            elif dev["driver"] in ("virtconsole", "virtserialport"):
                drv = dev["driver"]
                if serial is None:
                    raise BlockOptError(f"-device {drv}: No 'virtio-serial-bus' bus found for "
                                        f"device '{drv}'")
                console = drv == "virtconsole"
                nr = dev.get("nr", serial.free_nr(console))
                if nr is None:
                    raise BlockOptError(f"-device {drv}: virtio-serial-bus: Out of port numbers")
                if nr in serial.ports:
                    raise BlockOptError(f"-device {drv}: virtio-serial-bus: A port already "
                                        f"exists at id {nr}")
                if nr == 0 and not console:
                    raise BlockOptError(f"-device {drv}: virtio-serial-bus: Port number 0 on "
                                        f"virtio-serial devices reserved for virtconsole devices "
                                        f"for backward compatibility")
                port = Port(nr, console=console, name=dev.get("name", ""))
                port.host_connected = "chardev" not in dev
                serial.add_port(port)
                vm.serial_ports.append((serial, port, dev.get("chardev")))
            elif dev["driver"] == "virtio-rng-device":
                if "rng" in dev and dev["rng"] not in objs:
                    raise BlockOptError(f"-device virtio-rng-device,rng={dev['rng']}: "
                                        f"Property 'virtio-rng-device.rng' can't find "
                                        f"value '{dev['rng']}'")
                rng = VirtioRng(seed=dev.get("seed", 0), host="rng" in dev)
                rng.qdev_id = dev.get("id", "")
                plug_virtio(vm, rng)
            elif dev["driver"] == "virtio-blk-device":
                did = dev["drive"]
                if did not in by_id:
                    raise BlockOptError(f"-device virtio-blk-device,drive={did}: Property "
                                        f"'virtio-blk-device.drive' can't find value '{did}'")
                if did in used:
                    raise BlockOptError(f"-device virtio-blk-device,drive={did}: Drive '{did}' "
                                        f"is already in use by another device")
                used.add(did)
                spec = by_id[did]
                if spec["format"] is None and warn is not None:
                    warn(f"WARNING: Image format was not specified for '{spec['file']}' and "
                         f"probing guessed raw.\n         Automatically detecting the format "
                         f"is dangerous for raw images, write operations on block 0 will be "
                         f"restricted.\n         Specify the 'raw' format explicitly to "
                         f"remove the restrictions.\n")
                try:
                    drive = Drive(did, spec["file"], readonly=spec["readonly"],
                                  snapshot=spec["snapshot"] or snapshot)
                except DriveLocked as e:          # (QEMU names the device here, ...
                    raise BlockOptError(f"-device virtio-blk-device,drive={did}: {e}") from None
                except DriveError as e:           # ... and the drive here)
                    raise BlockOptError(f"{spec['opt']}: {e}") from None
                drive.device_index = index
                opened[did] = drive
                blk = VirtioBlk(drive, serial=dev.get("serial", ""))
                blk.qdev_id = dev.get("id", "")
                plug_virtio(vm, blk)
                vm.drives[did] = drive
    except Exception:
        for d in opened.values():
            d.close()
        raise
    return opened
