"""The CLI's error contract: bad input is one line on stderr, exit 2, no traceback."""

import subprocess
import sys

from verification.cli import main


def test_unknown_tool_exits_2_with_one_line(capsys) -> None:
    assert main(["tools", "status", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no pin for tool 'nope'" in err


def test_no_command_prints_help_and_exits_2(capsys) -> None:
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_real_process_has_no_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "verification", "tools", "path", "nope"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.strip().count("\n") == 0
