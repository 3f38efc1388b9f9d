"""Build commands whose full output goes to a log file; a failure names the log."""

from pathlib import Path
from typing import Any

from verification.errors import CommandError
from verification.run import run


def logged_run(cmd: list[str], log: Path, *, timeout: float = 3600, **kwargs: Any) -> None:
    """Run `cmd` (see verification.run.run), appending the command and its output to `log`."""
    with log.open("a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        try:
            proc = run(cmd, timeout=timeout, **kwargs)
        except CommandError as exc:
            out.write(exc.stdout + exc.stderr)
            raise CommandError(exc.cmd, exc.returncode, exc.stdout, exc.stderr + f"\n(full log: {log})") from None
        out.write(proc.stdout + proc.stderr)
