"""Firmware in flash (issue 16 item 4): the CFI flash banks, fw_cfg, -bios and
-drive if=pflash, U-Boot (Debian's u-boot-qemu, qemu_arm64) and Linux booted by it.

What a user sees is compared with QEMU 7.2 where the behaviour should match:
guest programs printing over the UART (tests/guest/flash.c, fw_boot.S; fwcfg.c runs
in tests/test_guests.py), U-Boot's console, and the command line's errors.
"""
import os
import re
import subprocess
import sys

import pytest

from guestbuild import build, cli, run_guest
from tools import needs, UBOOT

QEMU = "qemu-system-aarch64"
need_qemu = needs(QEMU)
need_uboot = needs(UBOOT)       # (skipped on a developer's machine without it; CI fails)
EXPECTED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest", "expected")
BANK = 64 << 20


def flat(elf, out):
    """The flat binary of a guest linked at 0 (a -bios image)."""
    subprocess.run(["aarch64-linux-gnu-objcopy", "-O", "binary", elf, str(out)], check=True)
    return str(out)


def qemu_run(args, timeout=30):
    r = subprocess.run([QEMU, "-M", "virt", "-cpu", "cortex-a57", "-nographic", *args],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    return r.stdout.decode("latin-1")


# --- the flash banks as a guest sees them ---------------------------------------------
# what QEMU 7.2 prints differently on purpose: after the guest erases and programs
# code it has run, QEMU still runs its old translation of the flash (42 twice); a
# program must not run stale code, and here it does not
FLASH_NEW_CODE = ("after erase and program: 119\n", "after programming over it: 0\n")
FLASH_QEMU_STALE = ("after erase and program: 42\n", "after programming over it: 42\n")


def test_flash_guest():
    """tests/guest/flash.c: read ID, CFI query, status, erase, word and buffered
    program, lock commands, code run from flash and reprogrammed."""
    out, stop, _ = run_guest(build("flash.c"), machine="virt-7.2")
    assert stop.kind == "poweroff", stop
    with open(os.path.join(EXPECTED, "flash.txt"), encoding="latin-1") as f:
        assert out == f.read()
    assert all(line in out for line in FLASH_NEW_CODE)


@need_qemu
def test_flash_guest_matches_qemu():
    out, _, _ = run_guest(build("flash.c"), machine="virt-7.2")
    theirs = qemu_run(["-m", "128M", "-monitor", "none", "-serial", "stdio",
                       "-kernel", build("flash.c")])
    for ours_line, qemu_line in zip(FLASH_NEW_CODE, FLASH_QEMU_STALE):
        theirs = theirs.replace(qemu_line, ours_line)
    assert out == theirs


def test_stores_to_flash_in_read_array_mode_never_change_it():
    """A store to a bank in read-array mode is a command to its state machine (here
    an unknown one: back to read-array), whichever CPU path it takes (the first
    store and the ones after it, byte to pair, DC ZVA), never a write to the bytes."""
    from pyaarch64.machine.virt import VirtMachine
    m = VirtMachine(machine="virt-7.2")
    image = bytes(range(256)) * 64
    m.pflash[0].load_image(image, False)
    code = [
        0xD2800001,             # mov x1, #0            (flash bank 0)
        0xD2800F02,             # mov x2, #0x78
        0x39000022,             # strb w2, [x1]
        0x79000822,             # strh w2, [x1, #4]
        0xB9000822,             # str w2, [x1, #8]
        0xF9000822,             # str x2, [x1, #16]
        0xA9020822,             # stp x2, x2, [x1, #32]
        0xD50B7421,             # dc zva, x1
        0xF9400023,             # ldr x3, [x1]
        0x17FFFFF7,             # b (the stores again)
    ]
    for i, w in enumerate(code):
        m.write_memory(0x4000_0000 + 4 * i, w.to_bytes(4, "little"))
    m.cpu.pc = 0x4000_0000
    m.run(max_insns=5000)
    assert bytes(m.flash_storage(0)[:len(image)]) == image
    assert m.cpu.reg("x3") == int.from_bytes(image[:8], "little")
    assert m.pflash[0].cmd == 0 and m.pflash[0].romd_on


def test_readonly_bank_refuses_program_and_erase(tmp_path):
    from pyaarch64.machine.virt import VirtMachine
    f = tmp_path / "ro.img"
    f.write_bytes(b"\x5a" * BANK)
    m = VirtMachine(machine="virt-7.2")
    m.attach_pflash(1, str(f), readonly=True)
    p = m.pflash[1]
    p.write(0x100, 4, 0x00200020)            # block erase: an erase error
    p.write(0x100, 4, 0x00d000d0)
    assert p.read(0x100, 4) == 0x00A000A0
    p.write(0, 4, 0x00500050)                # clear status
    p.write(0x100, 4, 0x00400040)            # word program: a program error
    p.write(0x100, 4, 0)
    assert p.read(0x100, 4) == 0x00900090
    p.write(0, 4, 0x00ff00ff)
    assert p.read(0x100, 4) == 0x5a5a5a5a and f.read_bytes()[:8] == b"\x5a" * 8


def test_writable_drive_keeps_what_is_programmed(tmp_path):
    from pyaarch64.machine.virt import VirtMachine
    f = tmp_path / "vars.img"
    f.write_bytes(bytes(BANK))
    m = VirtMachine(machine="virt-7.2")
    m.attach_pflash(1, str(f))
    p = m.pflash[1]
    p.write(0x4_0000, 4, 0x00200020)         # erase sector 1
    p.write(0x4_0000, 4, 0x00d000d0)
    p.write(0x4_0010, 4, 0x00400040)
    p.write(0x4_0010, 4, 0xCAFEF00D)
    p.write(0, 4, 0x00ff00ff)
    data = f.read_bytes()
    assert data[0x4_0010:0x4_0014] == (0xCAFEF00D).to_bytes(4, "little")
    assert data[0x4_0000:0x4_0010] == b"\xff" * 16 and data[:0x4_0000] == bytes(0x4_0000)


# --- snapshots of the flash ----------------------------------------------------------
def test_flash_state_and_content_in_snapshots(tmp_path):
    """A snapshot holds the banks' state machines and what the guest programmed
    (a file round trip too); a -bios image is identified by size and SHA-256, and a
    snapshot of another image is refused by name."""
    from pyaarch64.machine.virt import VirtMachine
    from pyaarch64.snapshot.state import save, restore, SnapshotError
    from pyaarch64.snapshot.format import encode, decode
    image = b"\x14" * 4096
    m = VirtMachine(machine="virt-7.2")
    m.pflash[0].load_image(image, False)
    p = m.pflash[1]
    p.write(0x8_0000, 4, 0x00400040)
    p.write(0x8_0000, 4, 0x11223344)         # programmed, and left in status mode
    snap = save(m)
    assert snap.sections["pflash1"]["cmd"] == 0x40 and snap.sections["pflash1"]["content"]
    assert snap.identity["pflash0.image"][0] == 4096
    p.write(0, 4, 0x00ff00ff)
    p.write(0x8_0000, 4, 0x00200020)         # erased after the snapshot
    restore(m, snap)
    assert p.cmd == 0x40 and not p.romd_on
    p.write(0, 4, 0x00ff00ff)
    assert p.read(0x8_0000, 4) == 0x11223344
    # in a new machine, from the file
    m2 = VirtMachine(machine="virt-7.2")
    m2.pflash[0].load_image(image, False)
    restore(m2, decode(encode(snap))[0])
    assert m2.pflash[1].cmd == 0x40
    assert bytes(m2.flash_storage(1)[0x8_0000:0x8_0004]) == (0x11223344).to_bytes(4, "little")
    # another firmware image: refused, naming the bank
    m3 = VirtMachine(machine="virt-7.2")
    m3.pflash[0].load_image(b"\x15" * 4096, False)
    with pytest.raises(SnapshotError, match="pflash0.image"):
        restore(m3, snap)


def test_flash_content_field_is_validated():
    from pyaarch64.machine.pflash import PFlash
    assert PFlash.content_problem("") is None
    assert "not base64" in PFlash.content_problem("!!!")
    import base64
    import zlib
    bad = base64.b64encode(zlib.compress(b"\x01\x00" + bytes(10))).decode()
    assert "whole sectors" in PFlash.content_problem(bad)


# --- firmware boot -----------------------------------------------------------------------
def fw_boot_image(tmp_path):
    return flat(build("fw_boot.S", ldscript="link0.ld"), tmp_path / "fw_boot.bin")


def test_firmware_boot_hands_over_what_qemu_does(tmp_path):
    """-bios runs the image in place from flash at 0 with x0..x3 = 0, the DTB at the
    start of RAM, and -kernel/-initrd/-append in fw_cfg (tests/guest/fw_boot.S)."""
    bios = fw_boot_image(tmp_path)
    (tmp_path / "k").write_bytes(b"KERNEL-IMAGE-BYTES")
    (tmp_path / "rd").write_bytes(bytes(3000))
    args = ["run", "-M", "virt", "-m", "256", "-nographic", "-bios", bios, "-kernel",
            str(tmp_path / "k"), "-initrd", str(tmp_path / "rd"), "-append", "hello there"]
    rc, out, err = cli(*args)
    assert (rc, err) == (0, ""), err
    assert out == ("firmware running at 0000000000000000\n"
                   "x0|x1|x2|x3 at entry: 0000000000000000\n"
                   "DTB magic at RAM: 00000000d00dfeed\n"
                   "kernel size: 0000000000000012\n"
                   "initrd size: 0000000000000bb8\n"
                   "command line: hello there\n"
                   "DMA control after: 0000000000000000\n"
                   "kernel's first word: 492d4c454e52454b\n")
    import shutil
    if shutil.which(QEMU):
        assert qemu_run(args[3:]) == out


def test_pflash_drive_for_bank_0_is_firmware(tmp_path):
    img = tmp_path / "fw.img"
    with open(fw_boot_image(tmp_path), "rb") as f:
        img.write_bytes(f.read().ljust(BANK, b"\0"))
    rc, out, err = cli("run", "-nographic", "-drive", f"if=pflash,file={img},format=raw,readonly=on")
    assert rc == 0 and out.startswith("firmware running at 0000000000000000\n"), err


@pytest.mark.parametrize("args, message", [
    (["-bios", "/nonexistent.bin"], "could not find ROM image '/nonexistent.bin': No such file or directory"),
    (["-bios", "BIG"], "could not load ROM image 'BIG': 67112960 bytes do not fit in the 64 MiB flash bank"),
    (["-drive", "if=pflash,file=SMALL,format=raw"],
     "pflash0 'SMALL': the flash bank needs 67108864 bytes, the file has 4096"),
    (["-drive", "if=pflash,file=/nonexistent.img,format=raw,unit=1", "-bios", "FULL"],
     "could not open '/nonexistent.img': No such file or directory"),
    (["-bios", "FULL", "-drive", "if=pflash,file=FULL,format=raw"],
     "The contents of the first flash device may be specified with -bios or with -drive "
     "if=pflash... but you cannot use both options at once"),
    (["-drive", "if=pflash,file=FULL,unit=2"],
     "-drive if=pflash,file=FULL,unit=2: machine type does not support if=pflash,bus=0,unit=2"),
    (["-drive", "if=pflash,file=FULL,unit=1", "-drive", "if=pflash,file=FULL,unit=1"],
     "-drive if=pflash,file=FULL,unit=1: drive with bus=0, unit=1 exists"),
    (["-drive", "if=pflash,file=FULL,format=qcow2"],
     "-drive if=pflash,file=FULL,format=qcow2: format=qcow2 is not supported (raw only)"),
    (["-drive", "if=pflash,file=FULL,readonly=maybe"],
     "-drive if=pflash,file=FULL,readonly=maybe: Parameter 'read-only' expects 'on' or 'off'"),
    (["-drive", "if=pflash,format=raw"],
     '-drive if=pflash,format=raw: A block device must be specified for "file"'),
    (["-drive", "if=pflash,file=FULL,cache=none"],
     "-drive if=pflash,file=FULL,cache=none: unknown or unsupported property 'cache' "
     "(if, file, format, unit, readonly, snapshot)"),
])
def test_cli_errors(tmp_path, args, message):
    files = {"BIG": BANK + 4096, "SMALL": 4096, "FULL": BANK}
    for name, size in files.items():
        with open(tmp_path / name, "wb") as f:
            f.truncate(size)

    def real(text):
        for n in files:
            text = re.sub(rf"\b{n}\b", str(tmp_path / n), text)
        return text
    rc, out, err = cli("run", "-M", "virt", "-nographic", *[real(a) for a in args])
    assert (rc, err) == (1, f"pyaarch64: {real(message)}\n")


# --- U-Boot ----------------------------------------------------------------------------
UBOOT_ARGS = ["-M", "virt", "-cpu", "cortex-a57", "-m", "512", "-nographic", "-bios", UBOOT]
# lines QEMU 7.2 prints differently, and why: its tree has 32 virtio-mmio transports
# and a PCIe host bridge whose devices U-Boot binds (our board has neither yet), and
# QEMU's default NIC (virtio-net on PCI) is U-Boot's eth0
UBOOT_DIFFERS = re.compile(r"^(Core: .*|Net: .*)$", re.M)


def uboot(extra=(), store=None):
    from shellconsole import Console
    args = [sys.executable, "-m", "pyaarch64.emu.cli", "run", *UBOOT_ARGS, *extra]
    if store:
        args += ["--snapshot-store", str(store)]
    return Console(args)


def uboot_session(con, commands):
    """Stop the countdown, run `commands` at the prompt, power off; the transcript."""
    con.expect("Hit any key to stop autoboot", 300)
    con.send("\r")
    con.expect("=> ", 60)
    for c in commands:
        con.send(c + "\r")
        con.expect("=> ", 300)
    con.send("poweroff\r")
    con.wait(60)
    return bytes(con.buf).decode("latin-1")


@need_uboot
def test_uboot_reaches_its_prompt_and_answers():
    text = uboot_session(uboot(), ["version", "flinfo", "qfw list"])
    assert "Flash: 64 MiB\r\nLoading Environment from Flash... *** Warning - bad CRC, using " \
           "default environment\r\n" in text
    assert "In:    pl011@9000000\r\nOut:   pl011@9000000\r\nErr:   pl011@9000000\r\n" in text
    assert "Bank # 2: CFI conformant flash (16 x 16)  Size: 32 MB in 256 Sectors\r\n  Intel " \
           "Extended command set, Manufacturer ID: 0x89, Device ID: 0x0018\r\n" in text
    assert "=> qfw list\r\nbios-geometry" in text and "poweroff ...\r\n" in text


@need_uboot
@need_qemu
@pytest.mark.slow
def test_uboot_console_is_qemus():
    from shellconsole import Console
    cmds = ["version", "flinfo", "bdinfo", "printenv"]
    ours = uboot_session(uboot(), cmds)
    theirs = uboot_session(Console([QEMU, *UBOOT_ARGS]), cmds)

    def norm(t):
        t = UBOOT_DIFFERS.sub("", t.replace("\r\n", "\n"))
        # (no NIC: no MAC address in the environment, 26 bytes fewer)
        t = re.sub(r"current eth = .*\n|ethaddr *=.*\n|Environment size: .*\n", "", t)
        t = re.sub(r"Early malloc usage: .*\n", "", t)       # (fewer devices bound early)
        t = re.sub(r"Hit any key to stop autoboot: [ 0-9\x08]*", "", t)      # (timing)
        return re.sub(r"=> qfw list\n(.|\n)*?=> ", "", t)
    assert norm(ours) == norm(theirs)


@need_uboot
@pytest.mark.slow
def test_uboot_saveenv_then_a_restart_loads_it(tmp_path):
    vars_img = tmp_path / "vars.img"
    vars_img.write_bytes(bytes(BANK))
    drive = ["-drive", f"if=pflash,file={vars_img},format=raw,unit=1"]
    text = uboot_session(uboot(drive), ["setenv pyaarch64 was-here", "saveenv"])
    assert "Writing to Flash... done\r\nProtected 2 sectors\r\nOK\r\n" in text
    text = uboot_session(uboot(drive), ["printenv pyaarch64"])
    assert "Loading Environment from Flash... OK\r\n" in text
    assert "=> printenv pyaarch64\r\npyaarch64=was-here\r\n" in text


@need_uboot
@pytest.mark.slow
def test_uboot_savevm_at_the_prompt_loadvm_in_a_new_process(tmp_path):
    store = tmp_path / "store"
    con = uboot(store=store)
    con.expect("Hit any key to stop autoboot", 300)
    con.send("\r")
    con.expect("=> ", 60)
    con.send("setenv before savevm\r")
    con.expect("=> ", 60)
    con.send(b"\x01csavevm u1\r")
    con.expect(r"\(qemu\) ", 60)
    con.expect(r"\(qemu\) ", 120)
    con.send(b"\x01x")
    assert con.wait(60) == 0
    con = uboot(["-loadvm", "u1"], store=store)
    con.send("printenv before\r")
    assert con.expect("=> ", 120).endswith(b"before=savevm\r\n")
    con.send("poweroff\r")
    assert con.wait(60) == 0
    # another U-Boot binary: refused, naming the flash bank's image
    other = tmp_path / "u-boot-other.bin"
    with open(UBOOT, "rb") as f:
        data = bytearray(f.read())
    data[-1] ^= 1
    other.write_bytes(bytes(data))
    rc, _, err = cli("run", *UBOOT_ARGS[:-1], str(other), "--snapshot-store", str(store),
                     "-loadvm", "u1")
    assert rc == 1 and "pflash0.image" in err and "firmware image" in err


def linux_guests(request):
    from test_linux_boot import IMAGE, BUSYBOX, linux_enabled
    if not linux_enabled(request.config):
        pytest.skip("Linux boots run with --linux or PYAARCH64_LINUX=1")
    if not (os.path.exists(IMAGE) and os.path.exists(BUSYBOX)):
        pytest.skip("no kernel/busybox: run scripts/fetch-guests.sh")


@need_uboot
@pytest.mark.slow
def test_uboot_boots_linux_through_fw_cfg(request, tmp_path):
    """U-Boot's first boot target, qfw, loads the kernel and initrd from fw_cfg by DMA
    and Linux runs /init to its end (the guests of tests/test_linux_boot.py)."""
    from test_linux_boot import IMAGE, APPEND, mkinitramfs
    linux_guests(request)
    rd = mkinitramfs(tmp_path / "initramfs.cpio.gz")
    rc, out, err = cli("run", *UBOOT_ARGS, "-kernel", IMAGE, "-initrd", str(rd),
                       "-append", APPEND, timeout=900)
    assert rc == 0, err
    assert "loading kernel to address 0000000040400000 size " in out
    assert "Starting kernel ..." in out
    assert "PYAARCH64-INIT-OK" in out and "PYAARCH64-DONE" in out and "Power down" in out


@need_uboot
@pytest.mark.slow
def test_uboot_reset_starts_it_again():
    """`reset` (PSCI SYSTEM_RESET): the board resets, the firmware image is copied into
    the flash again and U-Boot starts from the beginning."""
    con = uboot()
    con.expect("Hit any key to stop autoboot", 300)
    con.send("\r")
    con.expect("=> ", 60)
    con.send("reset\r")
    con.expect("resetting ...", 60)
    con.expect(r"U-Boot 2023\.01", 120)
    text = uboot_session(con, ["version"])
    assert text.count("Loading Environment from Flash...") == 2


@pytest.mark.slow
def test_linux_fw_cfg_driver_sees_the_items(request, tmp_path):
    """Debian's qemu_fw_cfg module (the initramfs with the kernel's modules) reads the
    revision, the directory and a file through DMA, as under QEMU 7.2 -- whose directory
    also has its ACPI, SMBIOS and TPM tables (which move etc/boot-fail-wait's key)."""
    from shellconsole import Console
    from test_linux_boot import IMAGE, BUSYBOX, GUESTS, ROOT
    linux_guests(request)
    rd = str(tmp_path / "initramfs-mods.cpio.gz")
    r = subprocess.run(["sh", os.path.join(ROOT, "scripts", "mkinitramfs.sh"), BUSYBOX, rd,
                        os.path.join(GUESTS, "modules")], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    fw = "/sys/firmware/qemu_fw_cfg"
    cmds = [f"cat {fw}/rev", f"ls {fw}/by_name {fw}/by_name/etc",
            f"od -An -tx1 {fw}/by_name/etc/boot-fail-wait/raw",
            f"cat {fw}/by_name/bootorder/size {fw}/by_name/etc/boot-fail-wait/key"]
    args = ["-M", "virt", "-cpu", "cortex-a57", "-m", "512", "-nographic", "-kernel", IMAGE,
            "-initrd", rd, "-append", "console=ttyAMA0 cryptomgr.notests pyinit=shell"]

    def session(argv):
        c = Console(argv)
        try:
            c.expect(rb"poweroff to power off\r?\n", 600)
            c.shell_ready(600)
            out = [c.command(cmd, 300) for cmd in cmds]
            c.send("poweroff\n")
            c.expect(rb"reboot: Power down", 300)
            return out
        finally:
            c.close()
    ours = session([sys.executable, "-m", "pyaarch64.emu.cli", "run", *args])
    assert ours == ["3\n", f"{fw}/by_name:\nbios-geometry  bootorder      etc\n\n"
                    f"{fw}/by_name/etc:\nboot-fail-wait\n", " ff ff ff ff\n", "0\n34\n"]
    import shutil
    if shutil.which(QEMU):
        theirs = session([QEMU, *args])
        assert theirs[0] == ours[0] and theirs[2] == ours[2]
        assert theirs[3] == "0\n36\n"      # (after acpi/rsdp and acpi/tables)
        assert "etc:\nacpi            boot-fail-wait  smbios          table-loader    tpm\n" \
            in theirs[1]


def test_flash_state_values_are_checked():
    """A snapshot's flash state is validated like every section: a command the state
    machine has no state for, or a broken content, is refused by name."""
    from pyaarch64.machine.virt import VirtMachine
    from pyaarch64.snapshot.state import save, restore, SnapshotError
    m = VirtMachine(machine="virt-7.2")
    snap = save(m)
    snap.sections["pflash1"] = dict(snap.sections["pflash1"], cmd=0x77, content="!")
    with pytest.raises(SnapshotError) as e:
        restore(m, snap)
    assert "pflash1.cmd" in str(e.value) and "pflash1.content" in str(e.value)


def test_snapshot_in_the_middle_of_a_buffered_program():
    """The write buffer of a buffered program in progress is state (QEMU's
    "pflash_cfi01_blk_write" subsection): a snapshot taken after two of four words
    goes on in a new machine to the same bytes."""
    from pyaarch64.machine.virt import VirtMachine
    from pyaarch64.snapshot.state import save, restore
    from pyaarch64.snapshot.format import encode, decode
    m = VirtMachine(machine="virt-7.2")
    p = m.pflash[1]
    p.write(0x1000, 4, 0x00E800E8)
    p.write(0x1000, 4, 0x00030003)            # four words
    p.write(0x1000, 4, 0x11111111)
    p.write(0x1004, 4, 0x22222222)
    snap = decode(encode(save(m)))[0]
    assert snap.sections["pflash1/blk-write"]["blk_offset"] == 0x1000
    assert "pflash0/blk-write" not in snap.sections
    m2 = VirtMachine(machine="virt-7.2")
    restore(m2, snap)
    q = m2.pflash[1]
    q.write(0x1008, 4, 0x33333333)
    q.write(0x100C, 4, 0x44444444)
    assert bytes(m2.flash_storage(1)[0x1000:0x1004]) == bytes(4)      # (not yet confirmed)
    q.write(0x1000, 4, 0x00D000D0)
    q.write(0, 4, 0x00FF00FF)
    assert [q.read(0x1000 + 4 * i, 4) for i in range(5)] == [
        0x11111111, 0x22222222, 0x33333333, 0x44444444, 0]
