"""The one error hierarchy: every failure the suite raises on purpose carries its exit code and a
one-line form, which the CLI prints (no traceback) and pytest fixtures turn into a failure.

Exit codes of `platform-verify`: 0 all good; 1 a verdict found violations (printed on stdout) or
the blue-green orchestrator refused or failed (its own VerificationError subclasses); 2 bad input or
a missing prerequisite; 3 an external program failed; 4 a condition was not met in time; 130
interrupted.
"""

import shlex
from collections.abc import Sequence

LINE_LIMIT = 400  # characters of the one-line form; the full message stays in str(error)


class VerificationError(Exception):
    """Base of the suite's errors; subclasses set `exit_code`."""

    exit_code = 1

    def line(self) -> str:
        """The message on one line (lines joined with ' / '), for stderr."""
        return " / ".join(part.strip() for part in str(self).splitlines() if part.strip())


class UserError(VerificationError):
    """Bad input or a missing prerequisite: message names what is wrong and how to fix it."""

    exit_code = 2


class CommandError(VerificationError):
    """An external program exited non-zero, timed out or was not found; str() has its output's tail."""

    exit_code = 3

    def __init__(self, cmd: Sequence[str], returncode: int, stdout: str, stderr: str) -> None:
        self.cmd = list(cmd)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.tail = (stderr or stdout).strip().splitlines()[-15:]
        super().__init__(f"`{shlex.join(self.cmd)}` exited {returncode}:\n" + "\n".join(self.tail))

    def line(self) -> str:
        """The command (shortened) and the last line of its output: usually the program's own error."""
        last = self.tail[-1].strip()[: LINE_LIMIT // 2] if self.tail else "no output"
        command = shlex.join(self.cmd)
        room = max(LINE_LIMIT - len(last) - 20, 60)
        if len(command) > room:
            command = command[: room - 3] + "..."
        return f"`{command}` exited {self.returncode}: {last}"


class WaitTimeout(VerificationError, AssertionError):
    """A condition was not met in time; the message says what was awaited and what was seen last.

    Also an AssertionError: inside a test a wait that times out is a failed expectation."""

    exit_code = 4
