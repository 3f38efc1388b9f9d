"""The error hierarchy: each class has its exit code, and the CLI prints it as one line, no traceback."""

import argparse

import pytest

from verification import cli
from verification.errors import CommandError, UserError, VerificationError, WaitTimeout
from verification.run import run
from verification.wait import wait_for

LONG_COMMAND = ["helm", "template", *(f"--set=key{i}=value{i}" for i in range(200))]


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (UserError("values.yaml: unknown key 'replica'"), 2, "values.yaml: unknown key 'replica'"),
        (
            CommandError(["kubectl", "get", "pods"], 1, "", "warning: x\nerror: the server asked for credentials\n"),
            3,
            "`kubectl get pods` exited 1: error: the server asked for credentials",
        ),
        (
            WaitTimeout("timed out after 5s waiting for pods Ready; last seen: 1 of 2\n(pod a: Pending)"),
            4,
            "timed out after 5s waiting for pods Ready; last seen: 1 of 2 / (pod a: Pending)",
        ),
    ],
    ids=["user", "command", "wait"],
)
def test_cli_prints_one_line_and_the_class_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: VerificationError, code: int, line: str
) -> None:
    def failing(_args: argparse.Namespace) -> int:
        raise error

    parser = argparse.ArgumentParser()
    parser.set_defaults(func=failing)
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    assert cli.main([]) == code == error.exit_code
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == f"platform-verify: error: {line}\n"


def test_exit_codes_are_distinct_and_verdict_free() -> None:
    # 0 and 1 belong to verdicts (pass, violations): no error class may take them.
    codes = [UserError.exit_code, CommandError.exit_code, WaitTimeout.exit_code]
    assert len(set(codes)) == len(codes) and not {0, 1} & set(codes)


def test_the_orchestrators_refusals_are_exit_1_not_bad_input() -> None:
    from verification.bluegreen.kube import Forbidden
    from verification.bluegreen.orchestrator import Refused, SwitchFailed

    for refusal in (Refused, SwitchFailed, Forbidden):
        assert issubclass(refusal, VerificationError) and not issubclass(refusal, UserError)
        assert refusal.exit_code == 1


def test_every_error_is_a_verification_error() -> None:
    assert issubclass(UserError, VerificationError)
    assert issubclass(CommandError, VerificationError)
    assert issubclass(WaitTimeout, VerificationError)
    # inside a test, a wait that times out is a failed expectation, reported as a failure by pytest
    assert issubclass(WaitTimeout, AssertionError)


def test_a_long_command_line_is_shortened_and_keeps_the_error() -> None:
    error = CommandError(LONG_COMMAND, 1, "", "Error: template: boom")
    assert len(error.line()) <= 400
    assert error.line().startswith("`helm template --set=key0=value0")
    assert error.line().endswith("...` exited 1: Error: template: boom")
    assert "key199" in str(error)  # the full command stays in the message for logs and fixtures


def test_a_missing_program_and_a_timeout_are_command_errors() -> None:
    with pytest.raises(CommandError) as missing:
        run(["platform-verify-no-such-program"])
    assert missing.value.line() == (
        "`platform-verify-no-such-program` exited 127: platform-verify-no-such-program: command not found"
    )
    with pytest.raises(CommandError) as slow:
        run(["sleep", "5"], timeout=0.2)
    assert slow.value.line() == "`sleep 5` exited -1: (timed out after 0.2s)"


def test_wait_for_raises_the_hierarchy_timeout() -> None:
    with pytest.raises(WaitTimeout) as timeout:
        wait_for(lambda: "no", what="yes", timeout=0, until=lambda seen: seen == "yes")
    assert timeout.value.exit_code == 4
    assert timeout.value.line() == "timed out after 0s waiting for yes; last seen: 'no'"
