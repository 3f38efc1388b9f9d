"""The one subprocess runner and the one waiter."""

import sys

import pytest

from verification.errors import CommandError, WaitTimeout
from verification.run import TOOL_SECONDS, run
from verification.wait import wait_for


def test_run_captures_output_and_counts_tool_time() -> None:
    proc = run([sys.executable, "-c", "print('hi')"])
    assert proc.stdout.strip() == "hi"
    assert TOOL_SECONDS[sys.executable.rsplit("/", 1)[-1]] > 0


def test_run_raises_with_stderr_tail() -> None:
    with pytest.raises(CommandError) as info:
        run([sys.executable, "-c", "import sys; sys.stderr.write('boom\\n'); sys.exit(3)"])
    assert info.value.returncode == 3 and "boom" in str(info.value)


def test_missing_binary_is_a_command_error() -> None:
    with pytest.raises(CommandError, match="command not found"):
        run(["definitely-not-a-binary-xyz"])


def test_wait_returns_first_satisfying_value() -> None:
    values = iter([0, 1, 2, 3])
    assert (
        wait_for(lambda: next(values), what="counter reaches 2", timeout=5, interval=0.01, until=lambda v: v >= 2) == 2
    )


def test_wait_timeout_says_what_and_last_seen() -> None:
    def probe() -> str:
        raise ConnectionError("refused")

    with pytest.raises(WaitTimeout, match=r"waiting for the app to answer; last seen: ConnectionError: refused"):
        wait_for(probe, what="the app to answer", timeout=0.2, interval=0.05)
