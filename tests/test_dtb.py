"""Our FDT writer and the virt device tree, checked with dtc and against QEMU 7.2's
own tree (`-machine dumpdtb=`) for the same command line."""
import os
import struct
import subprocess
from dataclasses import replace

import pytest

from guestbuild import cli
from tools import have, needs
from pyaarch64.machine import dtb as D
from pyaarch64.machine import types as T
from pyaarch64.machine.fdt import Fdt, FdtError, Node, u64

QEMU = "qemu-system-aarch64"
need_dtc = needs("dtc")
need_qemu = needs(QEMU)

# Nodes of QEMU 7.2's virt tree that we leave out on purpose: the board does not
# model these devices, and a node for an absent device makes Linux probe it.
QEMU_ONLY_NODES = {
    "/platform-bus@c000000",          # dynamic sysbus devices
    "/pcie@10000000",                 # PCIe host bridge (ECAM)
    "/pmu",                           # PMU: not modelled yet
}

# properties whose cells are phandles (in the nodes we emit); gpios: <phandle line flags>
REFS = ("interrupt-parent", "clocks", "cpu")
FIRST_CELL_REFS = ("gpios",)


def fake_image(path, image_size=0x20_0000):
    """Just enough of an arm64 Image for placement: the header, magic at 0x38."""
    hdr = bytearray(64)
    struct.pack_into("<IIQQQ", hdr, 0, 0x14000010, 0, 0, image_size, 0xA)
    hdr[0x38:0x3C] = b"ARM\x64"
    path.write_bytes(bytes(hdr) + bytes(4096))
    return str(path)


def resolved(blob):
    """{path: [(prop, value)]} in blob order, phandle cells replaced by the target's
    path (numbering may differ), plus each node's list of children."""
    tree = Fdt.from_blob(blob)
    ph = tree.phandles()
    props, children = {}, {}
    for path, n in tree.root.walk():
        out = []
        for k, v in n.props:
            if k == "phandle":
                v = "<phandle>"
            elif k in REFS or k in FIRST_CELL_REFS:
                c = struct.unpack(f">{len(v) // 4}I", v)
                n_refs = len(c) if k in REFS else 1
                v = tuple(ph.get(x, f"<dangling {x:#x}>") for x in c[:n_refs]) + c[n_refs:]
            out.append((k, v))
        props[path] = out
        children[path] = [(path.rstrip("/") + "/" + c.name) for c in n.children]
    return props, children


def assert_same_as_qemu(ours, qemu, qemu_only=QEMU_ONLY_NODES):
    op, oc = resolved(ours)
    qp, qc = resolved(qemu)
    assert set(qp) - set(op) == qemu_only
    assert set(op) - set(qp) == set()
    for path in op:
        assert op[path] == qp[path], path      # same properties, values, order
        assert oc[path] == [c for c in qc[path] if c not in qemu_only], path
    # and the same phandle numbers (QEMU's allocation order: clock, CPUs, GIC, GICv2m,
    # PL061), so the raw cells line up too
    assert {p: n for n, p in Fdt.from_blob(ours).phandles().items()} == \
        {p: n for n, p in Fdt.from_blob(qemu).phandles().items() if p in op}


def qemu_dumpdtb(tmp_path, *args, machine="virt"):
    out = tmp_path / "qemu.dtb"
    r = subprocess.run(["qemu-system-aarch64", "-M", f"{machine},dumpdtb={out},dtb-randomness=off",
                        "-display", "none", *args], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return out.read_bytes()


# --- the writer ----------------------------------------------------------------------
def test_fdt_round_trip_and_dtc(tmp_path):
    root = Node("")
    root.set("#address-cells", 2)
    root.set("#size-cells", 2)
    root.set("model", "test board")
    root.set("compatible", ["vendor,one", "two"])
    a = root.add("dev@1000")
    a.set("reg", u64(0x1000, 0x100))
    a.set("empty")
    a.set("bytes", b"\x01\x02\x03")
    tree = Fdt(root, reservations=[(0x4000_0000, 0x1000)])
    a.set("phandle", tree.alloc_phandle(0x10))
    root.set("interrupt-parent", a.get_u32("phandle"))
    blob = tree.to_blob()
    hdr = struct.unpack(">10I", blob[:40])
    assert hdr[0] == 0xD00DFEED and hdr[1] == len(blob) and hdr[5:7] == (17, 16)
    back = Fdt.from_blob(blob)
    assert back.reservations == [(0x4000_0000, 0x1000)]
    assert [(p, n.props) for p, n in back.root.walk()] == [(p, n.props) for p, n in root.walk()]
    assert back.root.find("/dev@1000").get_strings("bytes") is None
    assert back.root.get_strings("compatible") == ["vendor,one", "two"]
    if have("dtc"):
        f = tmp_path / "t.dtb"
        f.write_bytes(blob)
        r = subprocess.run(["dtc", "-I", "dtb", "-O", "dts", str(f)], capture_output=True, text=True)
        assert r.returncode == 0 and r.stderr == ""
        assert "/memreserve/\t0x0000000040000000 0x0000000000001000;" in r.stdout
        assert 'compatible = "vendor,one\\0two";' in r.stdout
        assert "bytes = [01 02 03];" in r.stdout and "empty;" in r.stdout
        assert "interrupt-parent = <0x10>;" in r.stdout and "phandle = <0x10>;" in r.stdout
        # and dtc's own blob of that source reads back the same with our reader
        src = tmp_path / "t.dts"
        src.write_text(r.stdout)
        r2 = subprocess.run(["dtc", "-I", "dts", "-O", "dtb", "-o", str(tmp_path / "d.dtb"),
                             str(src)], capture_output=True, text=True)
        assert r2.returncode == 0
        again = Fdt.from_blob((tmp_path / "d.dtb").read_bytes())
        assert [(p, n.props) for p, n in again.root.walk()] == [(p, n.props) for p, n in root.walk()]


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b"\0" * 4 + b[4:], "bad magic"),
    (lambda b: b[:100], "truncated"),
    (lambda b: b[:8] + struct.pack(">I", 0x7000) + b[12:], "outside the blob"),
    (lambda b: b[:0x38] + struct.pack(">I", 7) + b[0x3C:], "unknown token 0x7"),
    (lambda b: b[:10], "too short"),
])
def test_fdt_reader_rejects_bad_blobs(mutate, message):
    root = Node("")
    root.set("x", 1)
    root.add("c").set("y", "z")
    blob = Fdt(root).to_blob()
    assert struct.unpack(">I", blob[0x38:0x3C])[0] == 1      # the root's BEGIN_NODE
    with pytest.raises(FdtError, match=message):
        Fdt.from_blob(mutate(blob))


# --- the virt tree ---------------------------------------------------------------------
@need_dtc
@pytest.mark.parametrize("mname", ["virt-4.1", "virt-7.2", "virt"])
def test_virt_dtb_decompiles_cleanly(tmp_path, mname):
    blob = D.virt_dtb(T.resolve(mname), "cortex-a57", 0x4000_0000, 512 << 20,
                      bootargs="console=ttyAMA0", initrd=(0x4800_0000, 1234))
    assert len(blob) == 0x10_0000          # QEMU's 1 MiB buffer
    f = tmp_path / "v.dtb"
    f.write_bytes(blob)
    r = subprocess.run(["dtc", "-I", "dtb", "-O", "dts", str(f)], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == ""
    assert 'bootargs = "console=ttyAMA0";' in r.stdout
    assert "linux,initrd-start = <0x48000000>;" in r.stdout
    assert "linux,initrd-end = <0x480004d2>;" in r.stdout
    assert 'stdout-path = "/pl011@9000000";' in r.stdout
    assert "kaslr-seed" not in r.stdout and "rng-seed" not in r.stdout
    assert ("cpu-map" in r.stdout) == (mname != "virt-4.1")


def test_seeds_only_when_the_type_asks():
    t = T.resolve("virt-7.2")
    chosen = D.build_virt_fdt(t, "cortex-a57", 0x4000_0000, 128 << 20).root.find("/chosen")
    assert [k for k, _ in chosen.props] == ["stdout-path"]
    seeded = D.build_virt_fdt(replace(t, dtb_randomness=True), "cortex-a57", 0x4000_0000,
                              128 << 20).root.find("/chosen")
    assert [(k, len(v)) for k, v in seeded.props] == [("stdout-path", 15), ("rng-seed", 32),
                                                     ("kaslr-seed", 8)]


def test_cpu_map_follows_the_machine_type():
    assert [T.resolve(f"virt-{v}").dtb_cpu_map for v in ("4.1", "6.1", "6.2", "7.2")] == \
        [False, False, True, True]


@need_qemu
@pytest.mark.parametrize("machine, cpu, mem, extra", [
    ("virt-7.2", "cortex-a57", "512", "append+initrd"),
    ("virt-7.2", "cortex-a57", "512", ""),
    ("virt-4.1", "cortex-a57", "512", "append+initrd"),
    ("virt-4.1", "cortex-a53", "128", "append"),
    ("virt-4.1", "cortex-a72", "1024", "initrd"),
    ("virt-4.1", "max", "256", ""),
    ("virt-6.1", "cortex-a57", "5000", "append+initrd"),   # > 4 GiB of RAM
    ("virt-6.2", "max", "128", "append+initrd"),
])
def test_same_tree_as_qemu(tmp_path, machine, cpu, mem, extra):
    args = ["-cpu", cpu, "-m", mem]
    if extra:
        args += ["-kernel", fake_image(tmp_path / "Image")]
    if "append" in extra:
        args += ["-append", "console=ttyAMA0 root=/dev/ram rdinit=/init"]
    if "initrd" in extra:
        rd = tmp_path / "initrd"
        rd.write_bytes(os.urandom(987_484))
        args += ["-initrd", str(rd)]
    qemu = qemu_dumpdtb(tmp_path, *args, machine=machine)
    ours_file = tmp_path / "ours.dtb"
    rc, out, err = cli("run", "-M", f"{machine},dumpdtb={ours_file}", *args)
    assert (rc, out, err) == (0, "", f"pyaarch64: info: dtb dumped to {ours_file}. Exiting.\n")
    ours = ours_file.read_bytes()
    assert_same_as_qemu(ours, qemu)
    assert len(ours) == len(qemu)
    chosen = Fdt.from_blob(ours).root.find("/chosen")
    # QEMU's rule: RAM + 128 MiB, or half-way into RAM when there is less than 256 MiB
    start = 0x4000_0000 + min((int(mem) << 20) // 2, 128 << 20)
    assert chosen.get_u32("linux,initrd-start") == (start if "initrd" in extra else None)


@need_qemu
@pytest.mark.parametrize("machine, cpu, extra", [
    ("virt-7.2", "cortex-a57", "append+initrd"),
    ("virt-7.0", "cortex-a53", ""),
    ("virt-4.1", "cortex-a72", "append"),
    ("virt-6.2", "max", "firmware"),
])
def test_same_tree_as_qemu_with_gicv3(tmp_path, machine, cpu, extra):
    """-M virt,gic-version=3: QEMU's GICv3 node (distributor + redistributor window, no
    GICv2m) and timer PPIs without a CPU mask.  QEMU's tree also has the ITS, which we
    do not model: it is compared as QEMU writes it with its=off."""
    args = ["-cpu", cpu, "-m", "512"]
    if extra == "firmware":
        bios = tmp_path / "bios.bin"
        bios.write_bytes(b"\x00\x00\x00\x14" * 16)
        args += ["-bios", str(bios)]
    elif extra:
        args += ["-kernel", fake_image(tmp_path / "Image")]
    if "append" in extra:
        args += ["-append", "console=ttyAMA0"]
    if "initrd" in extra:
        (tmp_path / "rd").write_bytes(os.urandom(5000))
        args += ["-initrd", str(tmp_path / "rd")]
    qemu = qemu_dumpdtb(tmp_path, *args, machine=f"{machine},gic-version=3,its=off")
    ours_file = tmp_path / "ours.dtb"
    rc, out, err = cli("run", "-M", f"{machine},gic-version=3,dumpdtb={ours_file}", *args)
    assert (rc, out) == (0, ""), err
    ours = ours_file.read_bytes()
    assert_same_as_qemu(ours, qemu)
    assert len(ours) == len(qemu)
    root = Fdt.from_blob(ours).root
    assert root.find("/intc@8000000").get("compatible") == b"arm,gic-v3\0"
    assert root.find("/intc@8000000/v2m@8020000") is None
    assert struct.unpack(">12I", root.find("/timer").get("interrupts"))[2::3] == (4,) * 4


@need_qemu
@pytest.mark.parametrize("machine, extra", [
    ("virt-7.2", "kernel+append+initrd"),
    ("virt-7.2", ""),
    ("virt-4.1", "kernel"),
])
def test_same_tree_as_qemu_for_firmware(tmp_path, machine, extra):
    """-bios: the tree QEMU 7.2 writes for a firmware boot (flash@0 and fw-cfg in
    every type; /chosen keeps -append's bootargs but no initrd range: the kernel and
    initrd go to fw_cfg)."""
    bios = tmp_path / "bios.bin"
    bios.write_bytes(b"\x00\x00\x00\x14" * 16)
    args = ["-cpu", "cortex-a57", "-m", "512", "-bios", str(bios)]
    if "kernel" in extra:
        args += ["-kernel", fake_image(tmp_path / "Image")]
    if "append" in extra:
        args += ["-append", "console=ttyAMA0 x=1"]
    if "initrd" in extra:
        (tmp_path / "rd").write_bytes(os.urandom(5000))
        args += ["-initrd", str(tmp_path / "rd")]
    qemu = qemu_dumpdtb(tmp_path, *args, machine=machine)
    ours_file = tmp_path / "ours.dtb"
    rc, out, err = cli("run", "-M", f"{machine},dumpdtb={ours_file}", *args)
    assert (rc, out) == (0, ""), err
    ours = ours_file.read_bytes()
    # a firmware boot turns ACPI on in QEMU: from virt-4.2 its GED replaces the PL061
    # and gpio-keys (virt-4.1 has no GED): neither tree has their nodes then
    assert_same_as_qemu(ours, qemu)
    has_gpio = Fdt.from_blob(ours).root.find("/pl061@9030000") is not None
    assert has_gpio == (machine == "virt-4.1")
    chosen = Fdt.from_blob(ours).root.find("/chosen")
    assert [k for k, _ in chosen.props] == (["bootargs"] if "append" in extra else []) + \
        ["stdout-path"]
    flash = Fdt.from_blob(ours).root.find("/flash@0")
    assert flash.get("reg") == u64(0, 0x400_0000, 0x400_0000, 0x400_0000)


def test_dumpdtb_cli_forms(tmp_path):
    """-machine dumpdtb=F after -M, and inside -M; exit 0 with QEMU's message."""
    f = tmp_path / "a.dtb"
    rc, out, err = cli("run", "-M", "virt-4.1", "-machine", f"dumpdtb={f}", "-m", "256")
    assert (rc, err) == (0, f"pyaarch64: info: dtb dumped to {f}. Exiting.\n")
    t = Fdt.from_blob(f.read_bytes()).root
    assert t.find("/cpus/cpu-map") is None            # still virt-4.1
    assert t.find("/memory@40000000").get("reg") == u64(0x4000_0000, 256 << 20)
    rc, out, err = cli("run", "-M", f"virt,dumpdtb={tmp_path / 'no' / 'such' / 'dir.dtb'}")
    assert rc == 1 and err.startswith("pyaarch64: Failed dumping dtb to ")
    rc, out, err = cli("run", "-M", f"virt,dumpdtb={f}", "-initrd", str(f))
    assert (rc, err) == (1, "pyaarch64: -initrd only allowed with -kernel option\n")
    rc, out, err = cli("run", "-M", f"virt,dumpdtb={f}", "-append", "x")
    assert (rc, err) == (1, "pyaarch64: -append only allowed with -kernel option\n")
    rc, out, err = cli("run", "-M", f"virt,dumpdtb={f},dtb-randomness=on")
    assert rc == 1 and "only dtb-randomness=off" in err


USER_DTS = """/dts-v1/;
/ {
    #address-cells = <2>; #size-cells = <2>;
    compatible = "test";
    memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x1000000>; };
    memory { device_type = "memory"; reg = <0 0x50000000 0 0x1000000>; };
    chosen { bootargs = "old"; foo = "bar"; };
    node { prop; };
};
"""


@need_dtc
@pytest.mark.parametrize("append", ["hello world", None])
def test_user_dtb_is_patched_as_qemu_does(tmp_path, append):
    """-dtb FILE: /memory replaced by the RAM, /chosen gets bootargs (when -append
    is given) and the initrd range, /psci added."""
    src = tmp_path / "u.dts"
    src.write_text(USER_DTS)
    user = tmp_path / "u.dtb"
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", str(user), str(src)], check=True)
    rd = tmp_path / "rd"
    rd.write_bytes(b"R" * 100)
    args = ["-cpu", "cortex-a57", "-m", "256", "-dtb", str(user),
            "-kernel", fake_image(tmp_path / "Image"), "-initrd", str(rd)]
    if append:
        args += ["-append", append]
    ours_file = tmp_path / "ours.dtb"
    rc, out, err = cli("run", "-M", f"virt,dumpdtb={ours_file}", *args)
    assert rc == 0, err
    ours = ours_file.read_bytes()
    root = Fdt.from_blob(ours).root
    assert [c.name for c in root.children] == ["psci", "memory@40000000", "chosen", "node"]
    assert root.find("/memory@40000000").get("reg") == u64(0x4000_0000, 256 << 20)
    chosen = root.find("/chosen")
    assert chosen.get_str("bootargs") == (append or "old")
    assert (chosen.get_u32("linux,initrd-start"), chosen.get_u32("linux,initrd-end")) == \
        (0x4800_0000, 0x4800_0064)
    assert len(ours) == (user.stat().st_size + 10000) * 2
    if have(QEMU):
        qemu = qemu_dumpdtb(tmp_path, *args)
        assert resolved(ours) == resolved(qemu)
        assert len(ours) == len(qemu)


@pytest.mark.parametrize("content, message", [
    (b"garbage\n", "could not load device tree '{f}': too short for a device tree header"),
    (b"\0" * 64, "could not load device tree '{f}': bad magic 0x00000000"),
    (None, "device tree '{f}' has no #address-cells/#size-cells at its root"),
])
def test_bad_dtb_files(tmp_path, content, message):
    f = tmp_path / "bad.dtb"
    if content is None:
        root = Node("")
        root.add("chosen")
        content = Fdt(root).to_blob()
    f.write_bytes(content)
    rc, out, err = cli("run", "-M", f"virt,dumpdtb={tmp_path / 'x.dtb'}", "-dtb", str(f))
    assert (rc, out) == (1, "")
    assert err.startswith("pyaarch64: " + message.format(f=f)) and err.count("\n") == 1
    rc, out, err = cli("run", "-dtb", str(tmp_path / "missing.dtb"),
                       fake_image(tmp_path / "Image"))
    assert rc == 1
    assert err == f"pyaarch64: could not load device tree '{tmp_path / 'missing.dtb'}': " \
                  f"No such file or directory\n"


def test_dumpdtb_output_works_as_dtb(tmp_path):
    """dumpdtb -> -dtb -> dumpdtb keeps the tree, and the blob stays within Linux's
    2 MiB limit (QEMU pads it to 2.1 MB, which its guests' kernels then refuse)."""
    rd = tmp_path / "rd"
    rd.write_bytes(b"R" * 1000)
    args = ["-m", "512", "-kernel", fake_image(tmp_path / "Image"), "-initrd", str(rd),
            "-append", "console=ttyAMA0"]
    first, second = tmp_path / "1.dtb", tmp_path / "2.dtb"
    assert cli("run", "-M", f"virt,dumpdtb={first}", *args)[0] == 0
    assert cli("run", "-M", f"virt,dumpdtb={second}", "-dtb", str(first), *args)[0] == 0
    (p1, c1), (p2, c2) = resolved(first.read_bytes()), resolved(second.read_bytes())
    assert p2 == p1          # same nodes and properties (/memory moves first, as on QEMU)
    assert c2["/"] == ["/memory@40000000"] + [c for c in c1["/"] if c != "/memory@40000000"]
    assert len(second.read_bytes()) <= 2 << 20


@need_qemu
def test_every_type_qemu_72_knows(tmp_path):
    """virt-4.1 .. virt-7.2, built in-process, against QEMU's dumpdtb of each."""
    names = [n for n, t in T.TYPES.items() if tuple(map(int, t.qemu_version.split("."))) <= (7, 2)]
    assert names[0] == "virt-4.1" and names[-1] == "virt-7.2" and len(names) == 11
    for name in names:
        qemu = qemu_dumpdtb(tmp_path, "-cpu", "cortex-a72", "-m", "300", machine=name)
        ours = D.virt_dtb(T.resolve(name), "cortex-a72", 0x4000_0000, 300 << 20)
        assert_same_as_qemu(ours, qemu)


@need_qemu
@pytest.mark.parametrize("smp", ["2", "4", "8", "sockets=2,cores=2", "cores=2,threads=2",
                                 "2,maxcpus=4", "clusters=2,cores=2,threads=2"])
@pytest.mark.parametrize("machine", ["virt-4.1", "virt-6.2", "virt-7.2"])
def test_smp_device_tree_as_qemu(tmp_path, machine, smp):
    """-smp N: a cpu@N node each with enable-method psci, the cpu-map as the
    topology says (machine types with one), the timer's PPIs routed to every CPU."""
    from pyaarch64.emu.smpopts import parse_smp
    qemu = qemu_dumpdtb(tmp_path, "-cpu", "cortex-a57", "-m", "256", "-smp", smp, machine=machine)
    ours = D.virt_dtb(T.resolve(machine), "cortex-a57", 0x4000_0000, 256 << 20,
                      topology=parse_smp(smp))
    assert_same_as_qemu(ours, qemu)
    out = tmp_path / "ours.dtb"
    assert cli("run", "-M", f"{machine},dumpdtb={out}", "-m", "256", "-smp", smp)[0] == 0
    assert out.read_bytes() == ours
