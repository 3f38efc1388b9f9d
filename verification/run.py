"""The one way to run a subprocess: output captured, failures raised with stderr."""

import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from verification.errors import CommandError

# Seconds spent in external programs, by program name: the conformance benchmark reports the
# share of its wall time that went to helm, promtool, amtool, gitlab-ci-local and friends.
TOOL_SECONDS: dict[str, float] = {}
_STATS_LOCK = threading.Lock()


# Commands `run` has started and not yet reaped, with whether each leads a session of its own:
# a command interrupted by a signal stops them (and, for a session, what they started) first.
_STARTED: dict[subprocess.Popen[str], bool] = {}
_STARTED_LOCK = threading.Lock()


def run(
    cmd: Sequence[str | Path],
    *,
    check: bool = True,
    input: str | None = None,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = 600,
    session: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run `cmd`; raise CommandError (with the tail of stderr) unless it succeeds or check=False.

    `session`: the command leads a session (process group) of its own, so a timeout or
    `stop_started` stops whatever it started as well (a pytest run and its tools)."""
    args = [str(c) for c in cmd]
    started = time.monotonic()
    try:
        try:
            proc = subprocess.Popen(
                args,
                stdin=subprocess.PIPE if input is not None else None,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=cwd,
                env=env,
                start_new_session=session,
            )
        except FileNotFoundError:
            raise CommandError(args, 127, "", f"{args[0]}: command not found") from None
        with _STARTED_LOCK:
            _STARTED[proc] = session
        try:
            stdout, stderr = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal(proc, session, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            raise CommandError(args, -1, stdout, stderr + f"\n(timed out after {timeout}s)") from None
        except BaseException:  # interrupted (a signal handler raised): nothing is left running
            _signal(proc, session, signal.SIGKILL)
            proc.wait()
            raise
        finally:
            with _STARTED_LOCK:
                _STARTED.pop(proc, None)
    finally:
        with _STATS_LOCK:
            name = Path(args[0]).name
            TOOL_SECONDS[name] = TOOL_SECONDS.get(name, 0.0) + time.monotonic() - started
    if check and proc.returncode != 0:
        raise CommandError(args, proc.returncode, stdout, stderr)
    return subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)


def _signal(proc: subprocess.Popen[str], session: bool, signum: int) -> None:
    try:
        if session:
            os.killpg(proc.pid, signum)  # its session's group: the command and what it started
        else:
            proc.send_signal(signum)
    except ProcessLookupError:
        pass  # already gone


def stop_started(signum: int = signal.SIGTERM) -> int:
    """Send `signum` to every command `run` started that is still running (each session's whole
    group); their `run` calls then return. How many were running."""
    with _STARTED_LOCK:
        running = [(proc, session) for proc, session in _STARTED.items() if proc.poll() is None]
    for proc, session in running:
        _signal(proc, session, signum)
    return len(running)


@dataclass
class Background:
    """A long-running process (a server under test); `run` is for commands that finish.

    Output goes to a log file so a failure can quote it; `stop` sends SIGTERM first, because the
    servers under test drain on SIGTERM, and kills only what hangs.
    """

    name: str
    cmd: list[str]
    log: Path
    cwd: Path | None = None
    env: Mapping[str, str] | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> "Background":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as handle:
            self.popen = subprocess.Popen(
                [str(c) for c in self.cmd],
                cwd=self.cwd,
                env=dict(self.env) if self.env is not None else None,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, signum: int = signal.SIGTERM) -> None:
        if self.running():
            assert self.popen is not None
            self.popen.send_signal(signum)

    def wait(self, timeout: float) -> int:
        assert self.popen is not None
        return self.popen.wait(timeout)

    def stop(self, timeout: float = 10) -> int | None:
        if self.popen is None:
            return None
        self.signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait(timeout)

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""
