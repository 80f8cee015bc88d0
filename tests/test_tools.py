"""tests/tools.py: a missing tool skips on a developer's machine and fails in CI."""
import os
import subprocess
import sys

import pytest

from tools import have, need

HERE = os.path.dirname(os.path.abspath(__file__))
MISSING = "pyaarch64-no-such-tool"


@pytest.fixture
def developer(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("PYAARCH64_REQUIRE_TOOLS", raising=False)


@pytest.mark.parametrize("ci", [None, "false", "0"])
def test_missing_tool_skips_on_a_developer_machine(developer, monkeypatch, ci):
    if ci is not None:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match=f"^{MISSING} is not installed"):
        need(MISSING)
    assert have(MISSING) is False
    need(sys.executable)                      # an installed tool: nothing happens
    assert have(sys.executable) is True


@pytest.mark.parametrize("var, value", [("CI", "true"), ("PYAARCH64_REQUIRE_TOOLS", "1")])
def test_missing_tool_fails_in_ci(developer, monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(pytest.fail.Exception, match="CI or PYAARCH64_REQUIRE_TOOLS=1 needs"):
        need(sys.executable, MISSING)
    with pytest.raises(pytest.fail.Exception, match=f"^{MISSING} is not installed"):
        have(MISSING)
    need(sys.executable)
    assert have(sys.executable) is True


SELFTEST = f"""
from tools import need, needs

@needs("{MISSING}")
def test_marked():
    pass

def test_calls_need():
    need("{MISSING}")
"""


@pytest.mark.parametrize("ci, rc, summary", [("", 0, "2 skipped"), ("true", 1, "1 failed, 1 error")])
def test_a_pytest_run_with_a_missing_tool(tmp_path, ci, rc, summary):
    """End to end, with the needs marker: a run skips, or in CI (CI=true) fails."""
    (tmp_path / "test_selftest.py").write_text(SELFTEST)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYAARCH64_REQUIRE_TOOLS")}
    env.update(CI=ci, PYTHONPATH=os.pathsep.join([HERE, env.get("PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "tools",
                        "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestUnknownMarkWarning",
                        "test_selftest.py"], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == rc and summary in r.stdout, r.stdout + r.stderr
    assert f"{MISSING} is not installed (see tests/run-all.sh)" in r.stdout
