"""Numeric and memory-safety discipline of the numba CPU core (DESIGN §2.2).

(a) The jitted CPU functions infer no float64 anywhere (mixing uint64 and int64 in
    numba silently makes float64: wrong results above 2**53 and slow code).  Types
    come from numba's type inference alone (no code generation), run for every
    signature the functions were compiled with after a small program ran.
    One deliberate exception: the host floating-point kernels of cpu/hostfp.py
    (HOST_FLOAT_MODULES), the fast paths of the FP arithmetic.  There floats are the
    point, so the rule becomes: no kernel takes or returns a float (each maps bit
    patterns to bit patterns), which keeps floats from leaking into the integer code
    around them, where the strict rule still applies.
(b) A differential sample and the hello guest run in a subprocess with
    NUMBA_BOUNDSCHECK=1 (its own cache directory: bounds-checked code must not land in
    the normal cache).
(c) The same in a subprocess with NUMBA_DISABLE_JIT=1: pure-Python (numpy scalar)
    semantics must agree with the compiled ones.
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tools import need

HERE = os.path.dirname(os.path.abspath(__file__))

# modules whose jitted functions are checked for float64
CPU_MODULES = ("pyaarch64.cpu.executor", "pyaarch64.cpu.alu", "pyaarch64.cpu.memory",
               "pyaarch64.cpu.system", "pyaarch64.cpu.exceptions", "pyaarch64.cpu.sysreg_access",
               "pyaarch64.cpu.sysinsn", "pyaarch64.cpu.atomics", "pyaarch64.cpu.memaccess",
               "pyaarch64.cpu.fpaccess", "pyaarch64.cpu.isa._decoder", "pyaarch64.cpu.isa.common",
               "pyaarch64.cpu.isa.dp_imm", "pyaarch64.cpu.isa.dp_reg", "pyaarch64.cpu.isa.ldst",
               "pyaarch64.cpu.isa.branch", "pyaarch64.cpu.fpu", "pyaarch64.cpu.fpexec",
               "pyaarch64.cpu.isa.fp", "pyaarch64.cpu.fpvec", "pyaarch64.cpu.isa.simd",
               "pyaarch64.cpu.simd_int", "pyaarch64.cpu.isa.simdx", "pyaarch64.cpu.vmem",
               "pyaarch64.cpu.simd_perm", "pyaarch64.cpu.crypto", "pyaarch64.cpu.hotloop",
               "pyaarch64.cpu.fpformat", "pyaarch64.cpu.fpfast", "pyaarch64.cpu.hostfp",
               "pyaarch64.cpu.debug")
# modules whose jitted functions compute with host floats on purpose: there the check is
# that no function's arguments or result are float (see unintended_floats)
HOST_FLOAT_MODULES = ("pyaarch64.cpu.hostfp",)
# these must have been compiled by the warm-up (else the check would be vacuous)
MUST_CHECK = ("pyaarch64.cpu.executor.run", "pyaarch64.cpu.hotloop.hot_run", "pyaarch64.cpu.memory.access_slow",
              "pyaarch64.cpu.isa._decoder.predecode", "pyaarch64.cpu.alu.addc",
              "pyaarch64.cpu.alu.shift", "pyaarch64.cpu.alu.extend", "pyaarch64.cpu.alu.dp1",
              "pyaarch64.cpu.alu.sdiv", "pyaarch64.cpu.alu.crc32", "pyaarch64.cpu.alu.umulh",
              "pyaarch64.cpu.memory.walk", "pyaarch64.cpu.memory.translate_cached",
              "pyaarch64.cpu.memory.translate", "pyaarch64.cpu.memaccess.unpriv_ldst",
              "pyaarch64.cpu.sysinsn.at_par", "pyaarch64.cpu.simd_int.run_same",
              "pyaarch64.cpu.simd_int.run_shift", "pyaarch64.cpu.debug.bp_fires",
              "pyaarch64.cpu.debug.wp_check", "pyaarch64.cpu.debug.ss_active")


# --- type inference only -------------------------------------------------------------

def _typeonly_compiler():
    from numba.core.compiler import CompilerBase, DefaultPassBuilder, _EarlyPipelineCompletion
    from numba.core.compiler_machinery import FunctionPass, register_pass
    from numba.core.typed_passes import NopythonTypeInference

    @register_pass(mutates_CFG=False, analysis_only=True)
    class StopAfterTyping(FunctionPass):
        _name = "pyaarch64_stop_after_typing"

        def __init__(self):
            FunctionPass.__init__(self)

        def run_pass(self, state):
            raise _EarlyPipelineCompletion(dict(state.typemap))

    class TypeOnly(CompilerBase):
        def define_pipelines(self):
            pm = DefaultPassBuilder.define_untyped_pipeline(self.state, "pyaarch64_typeonly")
            pm.add_pass(NopythonTypeInference, "nopython frontend")
            pm.add_pass(StopAfterTyping, "stop after typing")
            pm.finalize()
            return [pm]
    return TypeOnly


_TYPEONLY = None


def infer_types(disp, args):
    """{variable: numba type} of dispatcher `disp`'s function for argument types `args`."""
    global _TYPEONLY
    from numba.core import compiler
    if _TYPEONLY is None:
        _TYPEONLY = _typeonly_compiler()
    flags = compiler.Flags()
    flags.no_cpython_wrapper = True
    flags.nrt = True               # as in real compiles: helpers may allocate small arrays
    return compiler.compile_extra(disp.typingctx, disp.targetctx, disp.py_func, args=args,
                                  return_type=None, flags=flags, locals={},
                                  pipeline_class=_TYPEONLY)


def float_vars(disp, args):
    return sorted(f"{k}: {v}" for k, v in infer_types(disp, args).items() if "float" in str(v))


def unintended_floats(modname, disp, args):
    """float_vars, except in HOST_FLOAT_MODULES: there only a float argument or result."""
    if modname not in HOST_FLOAT_MODULES:
        return float_vars(disp, args)
    ret = disp.overloads[tuple(args)].signature.return_type
    return [f"{t}" for t in (*args, ret) if "float" in str(t)]


def _warm_up():
    """Run a small program (every hot op group) so the core is compiled or loaded."""
    from pyaarch64.cpu.core import Cpu
    from pyaarch64.cpu import ops as O
    cpu = Cpu("cortex-a57")
    base = 0x40000000
    mem = np.zeros(0x20000, dtype=np.uint8)
    cpu.attach_ram(mem, base)

    def mmio(addr, size, is_write, value):
        cpu.ctl[O.C_MMIO_ERR] = 1
        return 0
    cpu.attach_mmio(mmio)
    prog = [                       # (aarch64-linux-gnu-as)
        0xD2A80001,  # movz x1, #0x4000, lsl #16
        0x91404021,  # add x1, x1, #0x10, lsl #12     (data at base + 0x10000)
        0xD2800142,  # movz x2, #10
        0xB2400043,  # orr x3, x2, #1
        0xF8008423,  # str x3, [x1], #8                 <- loop
        0xF85F8024,  # ldur x4, [x1, #-8]
        0xA9BF0FE3,  # stp x3, x3, [sp, #-16]!
        0xA8C117E4,  # ldp x4, x5, [sp], #16
        0x9AC20865,  # udiv x5, x3, x2
        0x9AC20C66,  # sdiv x6, x3, x2
        0xDAC01467,  # cls x7, x3
        0x1AC24868,  # crc32w w8, w3, w2
        0x9BC27C69,  # umulh x9, x3, x2
        0x9B427C6A,  # smulh x10, x3, x2
        0x8B22C06B,  # add x11, x3, w2, sxtw
        0xAB020C6C,  # adds x12, x3, x2, lsl #3
        0xBA02006D,  # adcs x13, x3, x2
        0x9AC2206E,  # lsl x14, x3, x2
        0xF8626830,  # ldr x16, [x1, x2]
        0xC85F7C2F,  # ldxr x15, [x1]
        0xC8117C2F,  # stxr w17, x15, [x1]
        0xF8401031,  # ldur x17, [x1, #1]               (unaligned: slow path)
        0xF1000442,  # subs x2, x2, #1
        0x54FFFDA1,  # b.ne loop
        0xD503201F,  # nop
        0x14000000,  # b .
    ]
    code = np.array(prog, dtype=np.uint32).view(np.uint8)
    mem[:len(code)] = code
    cpu.pc = base
    cpu.regs[O.SP] = base + 0x18000
    ex = cpu.run(1000)
    assert ex == O.EXIT_BUDGET and cpu.icount == 1000 and cpu.reg("x2") == 0, (ex, cpu.pc)
    # the hot loop is compiled into executor.run through an intrinsic (cpu/hotloop.py):
    # a run loaded from the cache leaves hot_run itself uncompiled, so run it directly
    from pyaarch64.cpu.hotloop import hot_run
    hot_run(cpu.state, cpu.ctl, cpu.pslot, cpu.mem, np.uint64(1), cpu.sysr)
    return cpu


def test_checker_sees_float64():
    """The checker itself: a variable that is uint64 on one path and int64 on another
    unifies to float64 in numba."""
    import numba

    @numba.njit
    def bad(a, c):
        x = np.uint64(a)
        if c:
            x = np.int64(a)
        return x
    fv = float_vars(bad, (numba.int64, numba.boolean))
    assert any(v.startswith("x") for v in fv), fv


@pytest.mark.slow      # ~26 s of type inference
def test_no_float64_in_cpu_core():
    import importlib
    from numba.core.registry import CPUDispatcher
    _warm_up()
    run = importlib.import_module("pyaarch64.cpu.executor").run
    assert run.signatures, "executor.run did not compile"
    checked = set()
    bad = []
    # typing run resolves (and so compiles or loads) every callee it reaches
    for sig in run.signatures:
        fv = float_vars(run, sig)
        checked.add("pyaarch64.cpu.executor.run")
        if fv:
            bad.append(f"pyaarch64.cpu.executor.run{sig}:\n    " + "\n    ".join(fv))
    # typing a function compiles its callees, which may live in a module already
    # visited (memory.translate is reached only from sysinsn.*): repeat to a fixpoint
    done = set()
    while True:
        n0 = len(done)
        for modname in CPU_MODULES:
            mod = importlib.import_module(modname)
            for name in sorted(vars(mod)):
                d = getattr(mod, name)
                if not isinstance(d, CPUDispatcher) or d.py_func.__module__ != modname or d is run:
                    continue
                for sig in list(d.signatures):
                    if (modname, name, sig) in done:
                        continue
                    done.add((modname, name, sig))
                    fv = unintended_floats(modname, d, sig)
                    checked.add(f"{modname}.{name}")
                    if fv:
                        bad.append(f"{modname}.{name}{sig}:\n    " + "\n    ".join(fv))
        if len(done) == n0:
            break
    missing = [m for m in MUST_CHECK if m not in checked]
    assert not missing, f"not compiled by the warm-up, so not checked: {missing}"
    assert not bad, "float64 inferred in the CPU core:\n" + "\n".join(bad)


# --- subprocesses ---------------------------------------------------------------------

SUBPROCESS_SCRIPT = textwrap.dedent("""
    import sys, warnings
    sys.path.insert(0, {here!r})
    # pure-Python mode: numpy scalars warn on wrap-around, which is what we want
    warnings.filterwarnings("ignore", message="overflow encountered", category=RuntimeWarning)
    import numba
    assert int(numba.config.BOUNDSCHECK or 0) == {bc} and int(numba.config.DISABLE_JIT) == {nj}
    if {bc}:
        import numpy as np

        @numba.njit
        def oob(a, i):
            return a[i]
        try:
            oob(np.zeros(2), 5)
            raise SystemExit("NUMBA_BOUNDSCHECK=1 has no effect")
        except IndexError:
            pass
    import ucdiff, guestbuild
    import test_diff_unicorn as T
    h = ucdiff.Harness(seed=5)
    failures, seen = ucdiff.random_sample(h, {n}, seed={seed})
    assert not failures, failures
    rng_lines = [ln for g in sorted(T.GROUPS) for ln in T.GROUPS[g][::{stride}]]
    for g in sorted(T.GROUPS):
        f = T._run_group(h, g, T.GROUPS[g][::{stride}], trials=2, seed=9)
        assert not f, f
    for line, regs in T.REGRESSIONS:
        w = ucdiff.assemble([line])[0]
        r = [0x5A5A5A5A5A5A5A5A] * 31
        for k, v in regs.items():
            r[k] = v
        assert h.check([w], r, ucdiff.PTR, 0) == [], line
    out, reason, m = guestbuild.run_guest(guestbuild.build("hello.S"), max_insns=100000)
    assert out == "Hello from pyaarch64!\\n", repr(out)
    if {mmu}:
        # the stage-1 MMU guest (walks, faults, AT, LDTR/STTR, TBI) against its expected file
        out, reason, m = guestbuild.run_guest(guestbuild.build("mmu.c", extra_sources=("vectors.S",)),
                                              machine="virt-7.2")
        with open(guestbuild.os.path.join(guestbuild.GUEST, "expected", "mmu.txt"),
                  encoding="latin-1", newline="") as f:
            assert out == f.read(), out[-2000:]
    print("OK", len(seen), "patterns")
""")


def _need_tools():
    from guestbuild import CC
    from ucdiff import ASSEMBLER
    need("unicorn", CC, *ASSEMBLER)


def _run_sub(env_extra, n, stride, timeout, mmu=False):
    env = dict(os.environ)
    env.update(env_extra)
    script = SUBPROCESS_SCRIPT.format(here=HERE, n=n, seed=7, stride=stride,
                                      bc=int(env_extra.get("NUMBA_BOUNDSCHECK", 0)),
                                      nj=int(env_extra.get("NUMBA_DISABLE_JIT", 0)), mmu=mmu)
    r = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                       timeout=timeout, cwd=HERE)
    assert r.returncode == 0 and "OK" in r.stdout, \
        f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-6000:]}"


def _boundscheck_cache_dir():
    """A cache of its own for bounds-checked code (kept between runs: a cold compile of
    the core costs a minute; the source hash still salts it, see cpu/__init__.py)."""
    base = os.environ.get("NUMBA_CACHE_DIR")
    if base:
        return base.rstrip("/") + "-boundscheck"
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(xdg, "pyaarch64", "numba-boundscheck")


@pytest.mark.slow      # its own numba cache: ~100 s to compile after any cpu/ change
def test_boundscheck_subprocess():
    """Every guest-controlled index is checked before it touches a host array: with
    NUMBA_BOUNDSCHECK=1 an out-of-range index raises IndexError instead of corrupting."""
    _need_tools()
    _run_sub({"NUMBA_BOUNDSCHECK": "1", "NUMBA_CACHE_DIR": _boundscheck_cache_dir()},
             n=400, stride=4, timeout=900, mmu=True)


def test_disable_jit_subprocess():
    """Pure-Python semantics (numpy scalars, NEP 50 promotion) agree with the compiled ones."""
    _need_tools()
    _run_sub({"NUMBA_DISABLE_JIT": "1"}, n=100, stride=6, timeout=600)
