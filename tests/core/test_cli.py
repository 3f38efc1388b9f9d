"""The CLI's error contract: bad input is one line on stderr, exit 2, no traceback."""

import json
import re
import subprocess
import sys

import pytest

from verification.cli import main
from verification.models.schema import crd as crd_schema
from verification.paths import INTENT, MANIFESTS

WORKLOADS = INTENT / "workloads.yaml"


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


NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["netpol", "matrix", "--manifests", "{empty}", "--workloads", str(WORKLOADS)], r"empty: no \.yaml/\.yml"),
        (["netpol", "matrix", "--manifests", "{ns}", "--workloads", "{blank}"], r"blank\.yaml: expected a non-empty"),
        (["rbac", "can-i", "get", "pods", "--as", "a", "--manifests", "{ns}"], r"ns\.yaml: no Role, ClusterRole"),
        (["rbac", "check", "--intent", "{mapping}"], r"mapping\.yaml: no `prohibited` or `identities` entries"),
        (["crds", "validate", "{ns}"], r"ns\.yaml: no custom resources to validate"),
        (["alerts", "rules", "--manifests", "{blank}"], r"blank\.yaml: no objects"),
    ],
    ids=["netpol-empty-dir", "netpol-no-workloads", "rbac-no-rbac", "rbac-empty-intent", "crds-none", "alerts-empty"],
)
def test_vacuous_input_is_exit_2_with_one_line(tmp_path, capsys, monkeypatch, argv: list[str], message: str) -> None:
    # `crds validate` requires fetched schemas before it reads its input: a cache in tmp_path that
    # counts as fetched (no kinds), so the case does not depend on the user's cache
    monkeypatch.setenv("PLATFORM_VERIFY_CACHE", str(tmp_path / "cache"))
    for source in crd_schema.SOURCES:
        source.cache.mkdir(parents=True)
        (source.cache / "index.json").write_text(json.dumps({"format": crd_schema.CACHE_FORMAT, "kinds": {}}))
    (tmp_path / "empty").mkdir()
    files = {"empty": tmp_path / "empty", "ns": tmp_path / "ns.yaml", "blank": tmp_path / "blank.yaml"}
    files["mapping"] = tmp_path / "mapping.yaml"
    files["ns"].write_text(NS)
    files["blank"].write_text("# nothing here\n")
    files["mapping"].write_text("{}\n")
    assert main([a.format(**files) for a in argv]) == 2
    out = capsys.readouterr()
    assert out.out == "" and re.search(message, out.err) and out.err.count("\n") == 1, out


def test_binary_workloads_file_is_one_line(tmp_path, capsys) -> None:
    (tmp_path / "w.yaml").write_bytes(b"\x89PNG\r\n\x1a\n")
    argv = ["netpol", "matrix", "--manifests", str(MANIFESTS), "--workloads", str(tmp_path / "w.yaml")]
    assert main(argv) == 2
    assert capsys.readouterr().err == f"platform-verify: error: {tmp_path / 'w.yaml'}: not UTF-8 text at byte 0 " + (
        "(a binary file? save it as UTF-8)\n"
    )


@pytest.mark.parametrize("command", [["rbac", "check"], ["rbac", "effective", "--as", "alice"]])
def test_intent_with_a_null_key_is_one_line(tmp_path, capsys, command: list[str]) -> None:
    # found by test_bad_input: `?` is a mapping {None: None}; sorting its keys raised TypeError
    (tmp_path / "intent.yaml").write_text("?\n")
    assert main([*command, "--intent", str(tmp_path / "intent.yaml")]) == 2
    assert "intent.yaml: unknown field(s) None" in capsys.readouterr().err
