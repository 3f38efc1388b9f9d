"""SIGTERM or SIGINT during a mutation run: the running suites stop (pytest and the tools it
started), the temporary copies are removed, and the run exits 128 + signal with one line."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from verification.paths import REPO_ROOT

pytestmark = pytest.mark.slow


def _inside(tmp: Path) -> list[str]:
    """`pid command` of every process whose working directory is under `tmp` (a suite in a copy)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if Path(os.readlink(entry / "cwd")).is_relative_to(tmp):
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
                found.append(f"{entry.name} {command}")
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


def _await(what: str, condition, seen, deadline: float) -> None:
    """Poll until `condition()`; on the deadline, fail naming what was awaited and seen last."""
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within the deadline; seen last: {seen()}")
        time.sleep(0.1)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_suites_removes_the_copies_and_exits_with_one_line(tmp_path: Path, signum: int) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path), "PLATFORM_VERIFY_ARTIFACTS": str(tmp_path / "artifacts")}
    cli = subprocess.Popen(
        [sys.executable, "-m", "verification.mutants", "--area", "quotas", "--jobs", "1", "--skip-baseline"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _await("a conformance run in a copy", lambda: _inside(tmp_path), lambda: cli.poll(), time.monotonic() + 180)
        cli.send_signal(signum)
        _, err = cli.communicate(timeout=120)
    finally:
        if cli.poll() is None:
            cli.kill()
    name = signal.Signals(signum).name
    assert cli.returncode == 128 + signum, err
    assert err.strip() == f"mutants: interrupted by {name}: running suites stopped, temporary copies removed"
    assert not list(tmp_path.glob("mutants-*")), "a temporary copy is left"
    _await("no process left in the copies", lambda: not _inside(tmp_path), lambda: _inside(tmp_path),
           time.monotonic() + 10)  # fmt: skip
