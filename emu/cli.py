"""`pyaarch64` command line: QEMU's option grammar for what we support.

    pyaarch64 run [OPTIONS] [KERNEL]

Every bad input gets one clear line on stderr and a non-zero exit status.
"""
import os
import re
import sys
import time

from pyaarch64 import __version__
from pyaarch64.emu.deviceopts import (BlockOptError, parse_drive, parse_device, device_help,
                                      parse_object, plug_devices)
from pyaarch64.errors import MachineError
from pyaarch64.machine.blockdev import DriveError

PROG = "pyaarch64"

# option -> takes an argument?
OPTIONS = {
    "-M": True, "-machine": True, "-cpu": True, "-m": True, "-kernel": True, "-append": True,
    "-nographic": False, "-serial": True, "-semihosting": False, "-semihosting-config": True,
    "-d": True, "-D": True, "-icount": True, "-version": False, "-help": False, "-h": False,
    "--help": False, "--version": False, "-no-reboot": False, "-display": True, "-accel": True,
    "--max-insns": True, "-smp": True, "-initrd": True, "-dtb": True, "-loadvm": True,
    "--snapshot-store": True, "-monitor": True, "-S": False, "-rtc": True, "-nodefaults": False,
    "-echr": True, "-pidfile": True, "-snapshot": False,
    "-qmp": True, "-chardev": True, "-mon": True, "-name": True, "-no-shutdown": False,
    "-s": False, "-gdb": True,                                      # gdb stub
    "-bios": True,                                                  # firmware in flash
    "-drive": True, "-device": True, "-object": True,               # virtio devices, pflash
}
# QEMU options we recognise but do not implement yet: a clear error, not "invalid option"
LATER = {}
LATER_ARG = set()

USAGE = f"""\
usage: {PROG} run [options] [kernel]

Runs an AArch64 guest on QEMU's `virt` board (same options as qemu-system-aarch64).

Standard options:
-h or -help     display this help and exit
-version        display version information and exit
-M machine[,prop=value...]
                select the machine type (-M help for a list); `virt` is the newest;
                dumpdtb=FILE writes the guest's device tree blob to FILE and exits;
                gic-version=2|3|max, secure=off, virtualization=off, highmem=on|off,
                accel=tcg, dtb-randomness=off as QEMU (-M virt,help lists them)
-cpu cpu        select the CPU model (-cpu help for a list; default cortex-a57)
-m size         RAM size in MiB, or with a suffix: 128M, 1G (default 128M)
-smp [cpus=]n[,maxcpus=m][,sockets=s][,clusters=c][,cores=k][,threads=t]
                number of CPUs (1 to 8) and their topology, as QEMU parses it
-kernel file    the guest: an arm64 Linux Image (optionally gzip'd; booted as QEMU
                does), an AArch64 ELF (entry from the file) or a raw binary (loaded
                and entered at the start of RAM); also accepted positionally
-initrd file    initial ram disk for a Linux kernel (at RAM + 128 MiB)
-append cmdline kernel command line (/chosen bootargs; semihosting GET_CMDLINE)
-dtb file       use this device tree blob instead of the generated one
-bios file      firmware (e.g. U-Boot's qemu_arm64 u-boot.bin) at the start of flash
                bank 0, up to 64 MiB; the CPU starts there, the device tree is at the
                start of RAM and -kernel/-initrd/-append go to the firmware by fw_cfg
-drive if=pflash,file=F[,format=raw][,unit=0|1][,readonly=on|off]
                a 64 MiB raw file as CFI flash bank 0 (firmware: booted as -bios) or
                1 (e.g. U-Boot's environment); what the guest programs is written
                back to the file unless readonly=on
-nographic      no display: serial port and monitor on stdio, with Ctrl-A escapes
                (Ctrl-A h help, Ctrl-A c monitor, Ctrl-A x quit)
-monitor dev    stdio | none | unix:PATH,server=on[,wait=off] (the HMP monitor)
-qmp dev        QMP server: unix:PATH,server=on[,wait=off] | tcp:127.0.0.1:PORT,server=on
                [,wait=off] | stdio (loopback only; wait=on, the default, waits for a client)
-chardev socket,id=ID,path=PATH|host=127.0.0.1,port=PORT,server=on[,wait=off] | stdio,id=ID
-mon chardev=ID[,mode=control|readline]
                a QMP (control) or HMP (readline, the default) monitor on that chardev
-name NAME      the VM's name (-name guest=NAME also): `info name`, QMP query-name
-no-shutdown    when the guest powers off, stay, paused (status "shutdown"), instead
                of exiting
-S              start with the CPU stopped (continue with the monitor's `cont`
                or gdb's `continue`)
-gdb dev        accept a gdb connection on dev: tcp:[HOST]:PORT (HOST defaults to
                127.0.0.1), unix:PATH,server=on, or none (see docs/gdb.md)
-s              shorthand for -gdb tcp::1234
-loadvm tag     start from the snapshot `tag` (saved with the monitor's savevm)
--snapshot-store dir
                where savevm/loadvm keep snapshots (default: KERNEL.snapshots/
                next to the kernel file; without -kernel, next to the -bios file)
-serial dev     stdio | mon:stdio | null | none | file:PATH
-semihosting    enable semihosting (same as -semihosting-config enable=on)
-semihosting-config enable=on|off[,target=native|auto][,arg=STR...]
-no-reboot      exit instead of rebooting when the guest asks for a reset
-d item1,...    log items to stderr or the -D file (-d help for a list)
-D logfile      write -d logs to logfile
-icount [shift=]N|auto[,sleep=on|off]
                virtual time: each instruction is 2^N ns (deterministic); auto: N
                adapts so that virtual time keeps up with the host clock; sleep=on
                (the default): an idle guest waits for its timers in host time
                (a 1 s sleep takes a second, idle costs no CPU); sleep=off: virtual
                time jumps over idle periods.  Without -icount: shift=auto,sleep=on
                (time as on the host, as QEMU); -icount shift=N,sleep=off makes a
                run fully deterministic
-rtc [base=utc|localtime|DATE][,clock=vm|host]
                the RTC's start (DATE: 2006-06-17T16:01:21 or 2006-06-17, UTC)
                and what it counts: vm (virtual time, the default) or host time
-nodefaults     no default serial port or monitor (only what -serial/-monitor give)
-echr chr       the -nographic escape character (default 0x01, Ctrl-A)
-pidfile file   write the process id to file
-snapshot       drives' writes (virtio disks, pflash files) go to a throw-away overlay:
                their files stay untouched
--max-insns N   stop with an error if the guest has not finished after N instructions
"""


class UsageError(Exception):
    """A bad command line, in one line: control characters from the arguments are
    shown escaped (an argument of "\\n" must not break the message in two)."""

    def __init__(self, msg):
        super().__init__("".join(c if c.isprintable() else repr(c)[1:-1] for c in str(msg)))


# -M virt,PROP=VALUE: the values accepted (None: any) and what the board offers
MACHINE_PROPS = {
    "help": (None, ""),
    "accel": (("tcg",), "only accel=tcg is available"),
    "dumpdtb": (None, ""),
    "dtb-randomness": (("off", "false", "no"), "only dtb-randomness=off is available (device "
                       "trees carry no random seeds: boots are deterministic)"),
    # gic-version: checked by gic_version() (QEMU's messages)
    "gic-version": (None, ""),
    "its": (("off", "false", "no", "on", "true", "yes"), "'on' or 'off'"),
    "secure": (("off", "false", "no"), "there is no EL3 (secure=on is not implemented)"),
    "virtualization": (("off", "false", "no"), "there is no EL2 (virtualization=on is not "
                       "implemented)"),
    "highmem": (("on", "off", "true", "false", "yes", "no"), "on or off"),
}
MACHINE_PROPS_HELP = """virt-type options:
  accel=<string>          - tcg (the only accelerator)
  dtb-randomness=<bool>   - off: no random seeds in the device tree (always)
  dumpdtb=<string>        - write the device tree blob to this file and exit
  gic-version=<string>    - 2 (default), 3 or max (= 3 under TCG): GICv2 + GICv2m or GICv3
  its=<bool>              - off only in effect: the GICv3 ITS is not implemented yet
                            (on is accepted and has no ITS, as QEMU's its=off)
  highmem=<bool>          - on|off (no device is placed above 4 GiB either way)
  secure=<bool>           - off (no EL3)
  virtualization=<bool>   - off (no EL2)
"""


def parse_rtc_base(v, where):
    """-rtc base=: epoch seconds (utc: None, now; localtime: now shifted by the local
    time zone's offset; a date: that instant, UTC)."""
    import calendar
    import time as _time
    if v == "utc":
        return None
    if v == "localtime":
        t = int(_time.time())
        return t + _time.localtime(t).tm_gmtoff
    for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return calendar.timegm(_time.strptime(v, fmt))
        except ValueError:
            pass
    raise UsageError(f"{where}: invalid date format (use utc, localtime, "
                     f"2006-06-17T16:01:21 or 2006-06-17)")


def die(msg, code=1):
    sys.stderr.write(f"{PROG}: {msg}\n")
    sys.stderr.flush()
    return code


def parse_size(s):
    """QEMU -m: '128', '128M', '1G', 'size=512M' -> bytes."""
    s = s.split(",")[0]
    if s.startswith("size="):
        s = s[5:]
    m = re.fullmatch(r"(\d+)([kKmMgGtT]?)[bB]?", s.strip())
    if not m:
        raise UsageError(f"-m {s}: invalid RAM size (use e.g. 128M or 1G)")
    n = int(m.group(1))
    mult = {"": 1 << 20, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[m.group(2).lower()]
    size = n * mult
    if size < (1 << 20) or size % 4096:
        raise UsageError(f"-m {s}: RAM size must be at least 1 MiB and a multiple of 4 KiB")
    if size > (1 << 34):
        raise UsageError(f"-m {s}: at most 16 GiB of RAM is supported")
    return size


GIC_VERSIONS = {"2": 2, "3": 3, "max": 3}     # max: the newest TCG has (QEMU 7.2: 3)


def gic_version(v):
    """-M virt,gic-version=V -> 2 or 3, refused as QEMU 7.2 refuses it under TCG."""
    if v in GIC_VERSIONS:
        return GIC_VERSIONS[v]
    if v == "host":
        raise UsageError("gic-version=host requires KVM")
    if v == "4":
        raise UsageError("gic-version=4 requires virtualization enabled (and there is no EL2: "
                         "virtualization=on is not implemented)")
    raise UsageError("Invalid gic-version value\nValid values are 3, 2, host, max.")


def parse_kv(s):
    out = {}
    for part in s.split(","):
        if not part:
            continue
        if "=" in part:
            k, v = part.split("=", 1)
        else:
            k, v = part, "on"
        out.setdefault(k, []).append(v)
    return out


PFLASH_UNITS = 2
PFLASH_KEYS = ("if", "file", "format", "unit", "readonly", "index", "bus", "snapshot")


def parse_pflash_drive(opts, val):
    """-drive if=pflash,file=F[,format=raw][,unit=N][,readonly=on|off][,snapshot=on]:
    opts["pflash"] unit -> (file, readonly, snapshot).  A unit not given takes the next
    free one (as QEMU)."""
    kv = parse_kv(val)
    for k in kv:
        if k not in PFLASH_KEYS:
            raise UsageError(f"-drive {val}: unknown or unsupported property '{k}' "
                             f"(if, file, format, unit, readonly, snapshot)")
    get = {k: v[-1] for k, v in kv.items()}
    if get.get("format", "raw") != "raw":
        raise UsageError(f"-drive {val}: format={get['format']} is not supported (raw only)")
    if not get.get("file"):
        raise UsageError(f'-drive {val}: A block device must be specified for "file"')
    ro = get.get("readonly", "off")
    if ro not in ("on", "off", "true", "false", "yes", "no"):
        raise UsageError(f"-drive {val}: Parameter 'read-only' expects 'on' or 'off'")
    snap = get.get("snapshot", "off")
    if snap not in ("on", "off", "true", "false", "yes", "no"):
        raise UsageError(f"-drive {val}: Parameter 'snapshot' expects 'on' or 'off'")
    if get.get("bus", "0") != "0":
        raise UsageError(f"-drive {val}: machine type does not support if=pflash,"
                         f"bus={get['bus']}")
    unit = get.get("unit", get.get("index"))
    if unit is None:
        free = [u for u in range(PFLASH_UNITS) if u not in opts["pflash"]]
        unit = free[0] if free else PFLASH_UNITS
    elif not unit.isdigit():
        raise UsageError(f"-drive {val}: unit={unit} is not a number")
    unit = int(unit)
    if unit >= PFLASH_UNITS:
        raise UsageError(f"-drive {val}: machine type does not support if=pflash,bus=0,"
                         f"unit={unit}")
    if unit in opts["pflash"]:
        raise UsageError(f"-drive {val}: drive with bus=0, unit={unit} exists")
    opts["pflash"][unit] = (get["file"], ro in ("on", "true", "yes"),
                            snap in ("on", "true", "yes"))


def parse_args(argv):
    opts = {"append": "", "serial": None, "semihosting": False, "sh_args": [], "d": set(),
            "D": None, "icount": 0, "max_insns": None, "machine": "virt", "cpu": None,
            "loadvm": None, "store": None, "monitor": None, "start_paused": False,
            "ram": 128 << 20, "kernel": None, "nographic": False, "no_reboot": False,
            "help": False, "version": False, "machine_help": False, "cpu_help": False,
            "d_help": False, "initrd": None, "dtb": None, "dumpdtb": None,
            "icount_auto": True, "sleep": True, "rtc_base": None, "rtc_clock": "vm",
            "nodefaults": False, "echr": 1, "pidfile": None, "props_help": False,
            "gic_version": None,
            "qmp": [], "chardevs": {}, "mon": [], "name": None, "no_shutdown": False,
            "gdb": None, "drives": [], "devices": [], "snapshot": False, "device_help": False,
            "objects": [], "bios": None, "pflash": {}, "smp": None}
    i = 0
    while i < len(argv):
        a = argv[i]
        if not a.startswith("-") or a == "-":
            if opts["kernel"] is not None:
                raise UsageError(f"{a}: only one kernel may be given")
            opts["kernel"] = a
            i += 1
            continue
        name, val = a, None
        if a.startswith("--") and "=" in a:
            name, val = a.split("=", 1)
        if name.startswith("--") and name not in OPTIONS:
            name = name[1:]            # QEMU accepts --opt for -opt
        if name in LATER:
            raise UsageError(f"{name}: not supported yet ({LATER[name]})")
        if name not in OPTIONS:
            raise UsageError(f"{a}: invalid option")
        if OPTIONS[name] and val is None:
            if i + 1 >= len(argv):
                raise UsageError(f"{name}: requires an argument")
            val = argv[i + 1]
            i += 1
        i += 1
        if name in ("-h", "-help", "--help"):
            opts["help"] = True
        elif name in ("-version", "--version"):
            opts["version"] = True
        elif name in ("-M", "-machine"):
            kv = val.split(",")
            mtype, rest = kv[0], kv[1:]
            if "=" in mtype and not mtype.startswith("type="):
                mtype, rest = None, kv          # -machine dumpdtb=FILE: properties only
            props = parse_kv(",".join(rest))
            if mtype is not None and mtype.startswith("type="):
                mtype = mtype[5:]
            if mtype == "help":
                opts["machine_help"] = True
            if "help" in props:
                opts["props_help"] = True
            for k in props:
                v = props[k][-1]
                if k not in MACHINE_PROPS:
                    raise UsageError(f"{name} {val}: unknown machine property '{k}' "
                                     f"(-M virt,help lists them)")
                ok = MACHINE_PROPS[k][0]
                if ok is not None and v not in ok:
                    raise UsageError(f"{name} {val}: {k}={v} is not available "
                                     f"({MACHINE_PROPS[k][1]})")
            if "gic-version" in props:
                opts["gic_version"] = gic_version(props["gic-version"][-1])
            if "dumpdtb" in props:
                opts["dumpdtb"] = props["dumpdtb"][-1]
            if mtype is not None:
                opts["machine"] = mtype
        elif name == "-cpu":
            if val == "help":
                opts["cpu_help"] = True
            opts["cpu"] = val.split(",")[0]
            if "," in val:
                raise UsageError(f"-cpu {val}: CPU properties are not supported")
        elif name == "-m":
            opts["ram"] = parse_size(val)
        elif name == "-smp":
            from pyaarch64.emu.smpopts import parse_smp, SmpError
            try:
                opts["smp"] = parse_smp(val)
            except SmpError as e:
                raise UsageError(f"-smp {val}: {e}") from None
        elif name == "-kernel":
            if opts["kernel"] is not None:
                raise UsageError("only one kernel may be given")
            opts["kernel"] = val
        elif name == "-append":
            opts["append"] = val
        elif name == "-bios":
            opts["bios"] = val
        elif name == "-initrd":
            opts["initrd"] = val
        elif name == "-dtb":
            opts["dtb"] = val
        elif name == "-nographic":
            opts["nographic"] = True
        elif name == "-serial":
            opts["serial"] = val
        elif name == "-semihosting":
            opts["semihosting"] = True
        elif name == "-semihosting-config":
            kv = parse_kv(val)
            for k, vs in kv.items():
                v = vs[-1]
                if k == "enable":
                    if v not in ("on", "off"):
                        raise UsageError(f"-semihosting-config {val}: enable must be on or off")
                    opts["semihosting"] = v == "on"
                elif k == "target":
                    if v not in ("native", "auto"):
                        raise UsageError(f"-semihosting-config {val}: target={v} is not supported "
                                         f"(native, auto)")
                elif k == "arg":
                    opts["sh_args"].extend(vs)
                elif k == "chardev":
                    raise UsageError(f"-semihosting-config {val}: chardev= is not supported yet")
                else:
                    raise UsageError(f"-semihosting-config {val}: unknown property '{k}'")
        elif name == "-d":
            from pyaarch64.emu.trace import parse_items
            if val == "help":
                opts["d_help"] = True
            else:
                try:
                    opts["d"] |= parse_items(val)
                except ValueError as e:
                    raise UsageError(f"-d {val}: {e}") from None
        elif name == "-D":
            opts["D"] = val
        elif name == "-icount":
            opts["icount_auto"] = False             # (-icount without shift: shift=0)
            kv = parse_kv(val)
            if list(kv) == [val]:
                kv = {"shift": [val]}
            elif val.split(",")[0] in kv and "=" not in val.split(",")[0]:
                kv["shift"] = [val.split(",")[0]]       # -icount 3,sleep=off
                del kv[val.split(",")[0]]
            for k, vs in kv.items():
                v = vs[-1]
                if k == "shift":
                    if v == "auto":
                        opts["icount_auto"] = True
                        opts["icount"] = 0
                    elif not v.isdigit() or int(v) > 10:
                        raise UsageError(f"-icount {val}: shift must be a number from 0 to 10 "
                                         f"or auto")
                    else:
                        opts["icount_auto"] = False
                        opts["icount"] = int(v)
                elif k == "sleep":
                    if v not in ("on", "off"):
                        raise UsageError(f"-icount {val}: sleep must be on or off")
                    opts["sleep"] = v == "on"
                elif k == "align":
                    if v not in ("on", "off"):
                        raise UsageError(f"-icount {val}: align must be on or off")
                else:
                    raise UsageError(f"-icount {val}: unknown property '{k}'")
        elif name == "-rtc":
            for k, vs in parse_kv(val).items():
                v = vs[-1]
                if k == "base":
                    opts["rtc_base"] = parse_rtc_base(v, f"-rtc {val}")
                elif k == "clock":
                    if v not in ("vm", "host", "rt"):
                        raise UsageError(f"-rtc {val}: clock must be vm, host or rt")
                    opts["rtc_clock"] = "vm" if v == "vm" else "host"
                elif k == "driftfix":
                    if v not in ("none", "slew"):
                        raise UsageError(f"-rtc {val}: driftfix must be none or slew")
                else:
                    raise UsageError(f"-rtc {val}: unknown property '{k}'")
        elif name == "-nodefaults":
            opts["nodefaults"] = True
        elif name == "-echr":
            try:
                c = int(val, 0)
            except ValueError:
                c = -1
            if not 0 <= c <= 255:
                raise UsageError(f"-echr {val}: a character code from 0 to 255 (e.g. 0x14 for Ctrl-T)")
            opts["echr"] = c
        elif name == "-pidfile":
            opts["pidfile"] = val
        elif name == "-snapshot":
            opts["snapshot"] = True         # every drive: writes to a throw-away overlay
        elif name == "-drive" and parse_kv(val).get("if", [""])[-1] == "pflash":
            parse_pflash_drive(opts, val)
        elif name == "-drive":
            try:
                opts["drives"].append(parse_drive(val, len(opts["drives"])))
            except BlockOptError as e:
                raise UsageError(str(e)) from None
        elif name == "-device":
            try:
                dev = parse_device(val)
            except BlockOptError as e:
                raise UsageError(str(e)) from None
            if dev["driver"] == "help":
                opts["device_help"] = True
            else:
                opts["devices"].append(dev)
        elif name == "-object":
            try:
                opts["objects"].append(parse_object(val))
            except BlockOptError as e:
                raise UsageError(str(e)) from None
        elif name == "-no-reboot":
            opts["no_reboot"] = True
        elif name == "-display":
            if val.split(",")[0] != "none":
                raise UsageError(f"-display {val}: only -display none is available")
        elif name == "-accel":
            if val.split(",")[0] != "tcg":
                raise UsageError(f"-accel {val}: only tcg is available")
        elif name == "-monitor":
            kind = val.split(":")[0].split(",")[0]
            if kind not in ("stdio", "none", "unix"):
                raise UsageError(f"-monitor {val}: only stdio, none and unix:PATH,server=on are available")
            if kind == "unix":
                path, *props = val[5:].split(",")
                kv = dict(p.split("=", 1) if "=" in p else (p, "on") for p in props)
                if kv.get("server", "off") != "on":
                    raise UsageError(f"-monitor {val}: only server=on sockets are available")
                if not path:
                    raise UsageError(f"-monitor {val}: no socket path")
            opts["monitor"] = val
        elif name == "-S":
            opts["start_paused"] = True
        elif name in ("-qmp", "-chardev", "-mon"):
            parse_monitor_option(opts, name, val)
        elif name == "-name":
            first, _, rest = val.partition(",")
            kv = parse_kv(val if "=" in first else rest)
            if "=" not in first:                    # -name NAME[,...]: guest=NAME
                kv["guest"] = [first]
            for k in kv:
                if k not in ("guest", "process", "debug-threads"):
                    raise UsageError(f"-name {val}: unknown property '{k}'")
            opts["name"] = kv.get("guest", [None])[-1]
        elif name == "-no-shutdown":
            opts["no_shutdown"] = True
        elif name in ("-s", "-gdb"):                                  # gdb stub
            from pyaarch64.emu.gdbstub import parse_device as parse_gdb_device, GdbError, DEFAULT_DEVICE
            dev = DEFAULT_DEVICE if name == "-s" else val
            try:
                parse_gdb_device(dev)
            except GdbError as e:
                raise UsageError(f"{name} {dev}: {e}") from None
            opts["gdb"] = ("-s" if name == "-s" else f"-gdb {dev}", dev)
        elif name == "-loadvm":
            opts["loadvm"] = val
        elif name == "--snapshot-store":
            opts["store"] = val
        elif name == "--max-insns":
            if not val.isdigit() or int(val) <= 0:
                raise UsageError(f"--max-insns {val}: must be a positive number")
            opts["max_insns"] = int(val)
    check_monitors(opts)
    return opts


def parse_monitor_option(opts, name, val):
    """-qmp, -chardev, -mon (emu/chardev.py has their grammar)."""
    from pyaarch64.emu.chardev import parse_legacy, parse_chardev, parse_mon, ChardevError
    try:
        if name == "-qmp":
            opts["qmp"].append(parse_legacy(name, val))
        elif name == "-chardev":
            cid, spec = parse_chardev(val)
            if cid in opts["chardevs"]:
                raise UsageError(f"-chardev {val}: duplicate chardev id '{cid}'")
            opts["chardevs"][cid] = spec
        else:
            opts["mon"].append(parse_mon(val) + (val,))
    except ChardevError as e:
        raise UsageError(str(e)) from None


def check_monitors(opts):
    """Every -mon names a -chardev of its own; every -chardev is used by a -mon or a
    virtio-serial port (-device virtconsole|virtserialport,chardev=ID)."""
    used = {}
    for dev in opts["devices"]:
        cid = dev.get("chardev")
        if cid is not None:
            if cid not in opts["chardevs"]:
                raise UsageError(f"-device {dev['driver']},chardev={cid}: Property 'chardev' "
                                 f"can't find value '{cid}'")
            if cid in used:
                raise UsageError(f"-device {dev['driver']},chardev={cid}: chardev '{cid}' is "
                                 f"already in use")
            used[cid] = dev["driver"]
    for cid, _, val in opts["mon"]:
        if cid not in opts["chardevs"]:
            raise UsageError(f"-mon {val}: chardev '{cid}' not found")
        if cid in used:
            raise UsageError(f"-mon {val}: chardev '{cid}' is already in use")
        used[cid] = val
    for cid, spec in opts["chardevs"].items():
        if cid not in used:
            raise UsageError(f"{spec['label']}: chardev '{cid}' is not used by any -mon or "
                             f"virtio-serial port")
    opts["mon"] = [(cid, mode) for cid, mode, _ in opts["mon"]]


def _fast_numba_start():
    """numba probes for BLAS by importing scipy when it first loads its typing
    registries (about 0.5 s when scipy is installed).  The emulator never uses BLAS,
    so the command-line process (ours alone, unlike an embedding host) skips the probe."""
    if "scipy" not in sys.modules:
        sys.modules.setdefault("scipy.linalg.cython_blas", None)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    _fast_numba_start()
    if not argv:
        sys.stdout.write(USAGE)
        return 1
    if argv[0] in ("-version", "--version"):
        print(version_text())
        return 0
    if argv[0] in ("-h", "-help", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0
    if argv[0] == "snapshot":
        from pyaarch64.emu.snapcmd import main as snapshot_main
        return snapshot_main(argv[1:], die)
    if argv[0] != "run":
        return die(f"unknown command '{argv[0]}' (commands: run, snapshot; see {PROG} --help)")
    try:
        opts = parse_args(argv[1:])
    except UsageError as e:
        return die(str(e))
    if opts["help"]:
        sys.stdout.write(USAGE)
        return 0
    if opts["version"]:
        print(version_text())
        return 0
    if opts["machine_help"]:
        from pyaarch64.machine.types import help_text
        print(help_text())
        return 0
    if opts["props_help"]:
        sys.stdout.write(MACHINE_PROPS_HELP)
        return 0
    if opts["cpu_help"]:
        from pyaarch64.cpu.models import MODELS, DEFAULT_MODEL
        print("Available CPUs:")
        for n, m in MODELS.items():
            print(f"  {n:<12} {m.description}{' (default)' if n == DEFAULT_MODEL else ''}")
        return 0
    if opts["d_help"]:
        from pyaarch64.emu.trace import help_text
        print(help_text())
        return 0
    if opts["device_help"]:
        sys.stdout.write(device_help())
        return 0
    return run(opts)


def version_text():
    return (f"{PROG} version {__version__} (AArch64 system emulator; QEMU-compatible "
            f"virt machine types)")


def run(opts):
    from pyaarch64.machine.types import resolve, UnknownMachineType
    from pyaarch64.cpu.models import get_model, UnknownCpuModel
    try:
        resolve(opts["machine"])
    except UnknownMachineType as e:
        return die(f"-M {opts['machine']}: {e}")
    if opts["cpu"] is not None:
        if opts["cpu"] in ("cortex-a15", "cortex-a7", "cortex-a9", "cortex-m3"):
            return die(f"-cpu {opts['cpu']}: AArch32 CPUs are not supported")
        try:
            get_model(opts["cpu"])
        except UnknownCpuModel as e:
            return die(f"-cpu {opts['cpu']}: {e}")
    if opts["kernel"] is None:
        if opts["initrd"] is not None:
            return die("-initrd only allowed with -kernel option")
        if opts["append"]:
            return die("-append only allowed with -kernel option")
    if opts["bios"] is not None and 0 in opts["pflash"]:
        return die("The contents of the first flash device may be specified with -bios or "
                   "with -drive if=pflash... but you cannot use both options at once")
    firmware = opts["bios"] is not None or 0 in opts["pflash"]
    if opts["dumpdtb"] is not None:
        return dumpdtb(opts, firmware)
    if opts["kernel"] is None and not firmware:
        return die("no kernel given (use -kernel FILE or give it as the last argument, or "
                   "firmware with -bios FILE)")
    kpath = opts["kernel"]
    if kpath is not None and not os.path.exists(kpath):
        return die(f"could not load kernel '{kpath}': No such file or directory")
    if opts["bios"] is not None and not os.path.exists(opts["bios"]):
        return die(f"could not find ROM image '{opts['bios']}': No such file or directory")
    # the file snapshots and symbols are named after: the kernel, else the firmware
    guest_file = kpath or opts["bios"] or (opts["pflash"][0][0] if firmware else None)

    from pyaarch64.emu.console import open_serial, ConsoleQuit, StdioChardev
    serial_spec = opts["serial"] or ("null" if opts["nodefaults"] else
                                     "mon:stdio" if opts["nographic"] else "stdio")
    if opts["pidfile"] is not None:
        try:
            with open(opts["pidfile"], "w") as f:
                f.write(f"{os.getpid()}\n")
        except OSError as e:
            return die(f"-pidfile {opts['pidfile']}: cannot create pid file: {e.strerror}")
    logf = None
    if opts["D"]:
        try:
            logf = open(opts["D"], "w")
        except OSError as e:
            return die(f"-D {opts['D']}: cannot open log file: {e.strerror}")
    try:
        serial = open_serial(serial_spec, mux_stdio=opts["nographic"] and not opts["nodefaults"],
                             echr=opts["echr"])
    except ValueError as e:
        return die(str(e))

    from pyaarch64.machine.virt import VirtMachine
    from pyaarch64.machine.loader import KernelError, elf_symbols
    tracer = None
    if opts["d"]:
        from pyaarch64.emu.trace import Tracer
        tracer = Tracer(opts["d"], out=logf or sys.stderr, symbols=elf_symbols(guest_file))
    # as QEMU: arg=... pieces, else the kernel name followed by -append's words
    cmdline = " ".join(opts["sh_args"]) if opts["sh_args"] else " ".join(
        [guest_file] + opts["append"].split())
    try:
        m = VirtMachine(machine=opts["machine"], cpu=opts["cpu"], ram_size=opts["ram"],
                        serial=serial.write, semihosting=opts["semihosting"],
                        semihosting_cmdline=cmdline, icount_shift=opts["icount"],
                        tracer=tracer, no_reboot=opts["no_reboot"],
                        icount_auto=opts["icount_auto"], sleep=opts["sleep"],
                        rtc_base=opts["rtc_base"], rtc_clock=opts["rtc_clock"],
                        smp=opts["smp"].cpus if opts["smp"] else 1, topology=opts["smp"],
                        gic_version=opts["gic_version"])
        for unit, (path, readonly, snap) in sorted(opts["pflash"].items()):
            m.attach_pflash(unit, path, readonly, snapshot=snap or opts["snapshot"])
        if opts["bios"] is not None:
            m.load_bios(opts["bios"])
        plug_devices(m, opts["drives"], opts["devices"], opts["snapshot"],
                     warn=lambda w: sys.stderr.write(f"{PROG}: {w}"), objects=opts["objects"])
        if firmware:
            m.fw_cfg.set_nographic(opts["nographic"])
            m.boot_firmware(kpath, initrd=opts["initrd"], append=opts["append"],
                            dtb=opts["dtb"])
        else:
            m.load_kernel(kpath, initrd=opts["initrd"], append=opts["append"], dtb=opts["dtb"])
    except KernelError as e:
        serial.close()
        return die(str(e))
    except (BlockOptError, DriveError, MachineError) as e:
        serial.close()
        return die(str(e))

    from pyaarch64.snapshot.store import SnapshotStore, default_store_for
    from pyaarch64.emu.monitor import Monitor, MonitorQuit
    # (beside a writable disk first: its snapshots hold the disk; then the guest's file)
    disks = [d["file"] for d in opts["drives"] if not d["readonly"] and not d["snapshot"]
             and not opts["snapshot"]]
    disks += [f for _, (f, ro, snap) in sorted(opts["pflash"].items())
              if f and not ro and not snap and not opts["snapshot"]]
    store = SnapshotStore(opts["store"] or default_store_for(*disks, guest_file))
    for drive in m.drives.values():          # keep the store's snapshots of each disk exact
        drive.watch_files(store.disk_files())
    if opts["loadvm"] is not None:
        from pyaarch64.snapshot.state import restore, SnapshotError
        from pyaarch64.snapshot.format import SnapshotFileError
        from pyaarch64.snapshot.store import StoreError
        try:
            restore(m, store.load(opts["loadvm"]))
        except StoreError as e:
            serial.close()
            return die(f"-loadvm {opts['loadvm']}: {e} (snapshot store {store.path})")
        except (SnapshotError, SnapshotFileError) as e:
            serial.close()
            return die(f"-loadvm {opts['loadvm']}: {e}")
    mon = Monitor(m, store, version=__version__, name=opts["name"])
    from pyaarch64.emu.gdbstub import GdbServer, GdbError            # gdb stub
    gdb = mon.gdbserver = GdbServer(m, mon)
    if opts["gdb"] is not None:
        try:
            gdb.start(opts["gdb"][1])
        except GdbError as e:
            serial.close()
            return die(f"{opts['gdb'][0]}: {e}")
    mon_io = None
    mspec = opts["monitor"]
    if mspec is None and isinstance(serial, StdioChardev) and serial.mux:
        serial.monitor = mon                          # -nographic: Ctrl-A c
    elif mspec == "stdio":
        if isinstance(serial, StdioChardev):
            serial.close()
            return die("-monitor stdio: stdio is already the serial port (use -serial "
                       "null/file:PATH, or -nographic's Ctrl-A c)")
        from pyaarch64.emu.monitor_io import StdioMonitor
        mon_io = StdioMonitor(mon)
    elif mspec is not None and mspec.startswith("unix:"):
        from pyaarch64.emu.monitor_io import UnixMonitor
        try:
            mon_io = UnixMonitor(mspec[5:].split(",")[0], mon)
        except OSError as e:
            serial.close()
            return die(f"-monitor {mspec}: {e.strerror}")
    # --- front ends that poll() serves between run slices: QMP, -mon ---------------
    from pyaarch64.emu.chardev import ChardevError, INPUT
    from pyaarch64.emu.qmp_server import open_frontends, open_serial_ports
    try:
        stdio_users = ["the serial port"] * isinstance(serial, StdioChardev) + \
            ["-monitor stdio"] * (mspec == "stdio")
        frontends = open_frontends(opts, mon, m.machine_type, stdio_users)
        frontends += open_serial_ports(m, opts["chardevs"], stdio_users)
    except ChardevError as e:
        serial.close()
        if mon_io is not None:
            mon_io.close()
        gdb.close()
        return die(str(e))
    # ---
    if opts["start_paused"]:
        if (mon_io is None and getattr(serial, "monitor", None) is None and not frontends
                and not gdb.listening):
            serial.close()
            return die("-S: no monitor or gdb stub to continue from (use -nographic, -monitor, "
                       "-qmp, -s or -gdb)")
        m.paused, mon.reason = True, "prelaunch"

    def poll():
        data = serial.poll()
        if data:
            m.feed_input(data)
        if mon_io is not None:
            try:
                mon_io.poll()
            except MonitorQuit:
                raise ConsoleQuit() from None
        for fe in frontends:
            try:
                fe.poll()
            except MonitorQuit:
                raise ConsoleQuit() from None
        gdb.poll()                                                  # gdb stub
        serial.flush()

    def wait_input(timeout):
        # with a front end a client may always act: input can come (WFI waits on)
        if serial.wait_input(0):
            return True
        INPUT.wait(timeout)
        INPUT.clear()
        return True
    m.poll = poll
    m.wait_input = gdb.wrap_wait(wait_input if frontends else serial.wait_input)
    m.on_guest_reset = lambda: mon.emit("RESET", {"guest": True, "reason": "guest-reset"})
    if mon_io is not None or frontends:
        m.can_wake = lambda: True            # (a monitor may still act: reset, loadvm, quit)
    if mon_io is not None:
        # a guest stuck in an exception loop: with a monitor of its own (-monitor) the
        # user may still act (inspect, system_reset, loadvm), so pause; else stop
        def on_stuck(r):
            sys.stderr.write(f"pyaarch64: {r}; the VM is paused (monitor: info registers, "
                             f"system_reset, loadvm, quit)\n")
            sys.stderr.flush()
            mon.stop()                  # (STOP to QMP clients)
        m.on_stuck = on_stuck
    try:
        while True:
            r = gdb.run(max_insns=opts["max_insns"])      # m.run(), gdb's stops handled
            if r.kind == "poweroff":
                mon.guest_shutdown(opts["no_shutdown"])          # SHUTDOWN [, STOP]
                if opts["no_shutdown"]:     # stay, paused, until a reset or a loadvm
                    while m.off_gen == m.state_gen:
                        poll()
                        m.wait_input(0.05) or time.sleep(0.05)
                    continue
            elif r.kind == "reset":         # -no-reboot
                mon.emit("SHUTDOWN", {"guest": True, "reason": "guest-reset"})
            break
    except ConsoleQuit:
        serial.close()
        if mon_io is not None:
            mon_io.close()
        return 0
    except KeyboardInterrupt:
        serial.close()
        mon.emit("SHUTDOWN", {"guest": False, "reason": "host-signal"})     # (QMP clients)
        return die("terminating on signal 2", 1)
    finally:
        if m.tracer is not None:
            m.tracer.finish()                # (the monitor's `log` may have replaced it)
        serial.flush()
        if logf:
            logf.close()
        if mon_io is not None:
            mon_io.close()                 # (a unix: monitor removes its socket file)
        for fe in frontends:
            fe.close()                     # (sends what is queued, removes socket files)
        gdb.close()                                                 # gdb stub
    serial.close()
    if r.kind == "poweroff":
        return 0
    if r.kind == "semihosting-exit":
        return r.code & 0xFF
    if r.kind == "reset":
        return 0
    if r.kind == "killed":                                          # gdb's kill
        return 0
    if r.kind == "budget":
        return die(f"guest did not finish within {opts['max_insns']} instructions "
                   f"(PC 0x{r.pc:x}); stopping (--max-insns)", 2)
    return die(str(r), 1)


def dumpdtb(opts, firmware=False):
    """-machine dumpdtb=FILE: the device tree this command line would give the guest
    (kernel, initrd and -dtb are read for their placement), written to FILE; exit 0."""
    from pyaarch64.machine.types import resolve
    from pyaarch64.cpu.models import DEFAULT_MODEL
    from pyaarch64.machine.loader import DtbOnly, KernelError, boot, firmware_boot
    mtype = resolve(opts["machine"])
    target = DtbOnly(mtype, opts["cpu"] or mtype.default_cpu or DEFAULT_MODEL, opts["ram"],
                     topology=opts["smp"],
                     gic_version=opts["gic_version"] or mtype.gic_version)
    try:
        info = (firmware_boot if firmware else boot)(
            target, opts["kernel"], initrd=opts["initrd"], append=opts["append"],
            dtb=opts["dtb"])
    except KernelError as e:
        return die(str(e))
    path = opts["dumpdtb"]
    try:
        with open(path, "wb") as f:
            f.write(info.dtb)
    except OSError as e:
        return die(f"Failed dumping dtb to {path}: {e.strerror}")
    sys.stderr.write(f"{PROG}: info: dtb dumped to {path}. Exiting.\n")
    return 0


def entry():
    """The `pyaarch64` command: main(), then exit without the interpreter's teardown.
    Freeing numba's and LLVM's objects at exit costs about 0.25 s of every run; by the
    time main() returns, everything it opened (serial file, -D log, monitor socket) is
    closed, so only the standard streams need flushing.  Exceptions, SystemExit
    included, still leave the normal way."""
    code = main()
    from pyaarch64.cpu import compilejobs
    compilejobs.stop()          # a first start's compile helper, if still running
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(code or 0)


if __name__ == "__main__":
    entry()
