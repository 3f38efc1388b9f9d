"""Bad input to every CLI command that reads a file: exit 1 or 2, one short line, no traceback, nothing written.

The commands and their file arguments come from the argparse tree, so a new command or a new file
option is fed the same inputs without editing this file. Inputs: random bytes, random text,
truncated flow YAML (always malformed), a duplicate key at a random place of a real file, deep
nesting, and alias bombs; plus truncated block YAML of real files, which may stay valid (then any
exit 0/1/2 is fine, but never a traceback).
"""

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from verification.cli import build_parser, main
from verification.paths import INTENT, MANIFESTS, REPO_ROOT

# Path-typed options that name an output, not an input; any other path-like option must be an input.
OUTPUTS = {("load", "out"), ("mutants", "report"), ("cluster", "out")}
INPUT_DESTS = {"manifests", "paths", "workloads", "intent", "values", "kubeconfig", "compare"}
# Positionals with choices: the ones that read the file argument. Every command with such a positional
# must be listed: running the other choices would do unrelated work (`cluster down` deleted the
# developer's e2e cluster when this test ran every choice).
CHOICES = {
    ("alerts", "action"): ["check", "rules", "route"],
    ("bluegreen", "action"): ["status", "deploy", "switch", "rollback"],
    ("crds", "action"): ["validate"],
    ("cluster", "action"): ["preflight", "census"],
}
SAMPLES = {
    "verb": "get",
    "target": "pods",
    "user": "alice",
    "source": "test/sample-app-blue",
    "app": "sample-app",
    "env": "test",
    "url": "http://127.0.0.1:9",
    "rate": "1",
    "duration": "1",
}
GOOD = {"manifests": str(MANIFESTS), "paths": str(MANIFESTS), "workloads": str(INTENT / "workloads.yaml")}
# Real content of the kind each argument expects: the base of truncations and duplicate keys.
REAL = {
    "manifests": MANIFESTS / "rbac",
    "paths": MANIFESTS / "monitoring",
    "workloads": INTENT / "workloads.yaml",
    "intent": INTENT / "permissions.yaml",
    "values": REPO_ROOT / "platform/environments/test/sample-app.yaml",
}
# Arguments where an empty or any mapping document is valid input (Helm values).
LENIENT = {"values"}
EXAMPLES = 6


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for action in subs:
        for name, child in action.choices.items():
            yield from _leaves(child, (*path, name))


def _path_like(action: argparse.Action) -> bool:
    return action.type is Path or action.metavar in ("FILE", "PATH") or action.dest in INPUT_DESTS


def _invocations() -> list[tuple[tuple[str, ...], str, list[str], Path]]:
    """(command, file argument, argv with BAD where the bad file goes, real file of that kind) per file argument."""
    found = []
    for path, parser in _leaves(build_parser()):
        actions = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]
        for target in (a for a in actions if _path_like(a) and (path[0], a.dest) not in OUTPUTS):
            positional_choices: list[list[str]] = [[]]
            argv: list[str] = []
            for action in actions:
                if action is target:
                    argv += ["BAD"] if not action.option_strings else [action.option_strings[-1], "BAD"]
                elif not action.option_strings and action.choices:
                    if (path[0], action.dest) not in CHOICES:
                        raise LookupError(f"add the choices of {path[0]} {action.dest} that read a file to CHOICES")
                    options = CHOICES[(path[0], action.dest)]
                    positional_choices = [[c] for c in options]
                    argv.append("{choice}")
                elif not action.option_strings and action.nargs is None:
                    argv.append(SAMPLES.get(action.dest, "x"))
                elif action.required and action.option_strings:
                    value = GOOD.get(action.dest) or SAMPLES.get(action.dest, "x")
                    argv += [action.option_strings[-1], value]
            for choice in positional_choices:
                full = [*path, *[choice[0] if a == "{choice}" else a for a in argv]]
                default = Path(str(target.default)) if isinstance(target.default, str | Path) else None
                base = default if default and default.exists() else REAL.get(target.dest, REAL["manifests"])
                found.append((path, target.dest, full, base))
    return found


INVOCATIONS = _invocations()
IDS = [" ".join(argv) for _, _, argv, _ in INVOCATIONS]


def test_every_path_like_option_is_an_input_or_a_known_output() -> None:
    for path, parser in _leaves(build_parser()):
        for action in parser._actions:
            if action.type is Path and (path[0], action.dest) not in OUTPUTS:
                assert action.dest in INPUT_DESTS or action.metavar in ("FILE", "PATH"), (path, action.dest)


def test_the_commands_that_read_files_are_found() -> None:
    commands = {" ".join(path) for path, _, _, _ in INVOCATIONS}
    expected = {"rbac can-i", "rbac check", "netpol matrix", "netpol explain", "netpol check", "crds", "alerts"}
    assert expected <= commands
    assert len(INVOCATIONS) >= 14


def _run(argv: list[str], bad: bytes) -> tuple[int, str, list[str]]:
    """Run the CLI in-process in a scratch cwd and TMPDIR; return exit code, stderr, files left behind."""
    with tempfile.TemporaryDirectory(prefix="badinput-") as root_name:
        root = Path(root_name)
        (root / "cwd").mkdir()
        (root / "tmp").mkdir()
        bad_file = root / "cwd" / "bad.yaml"
        bad_file.write_bytes(bad)
        argv = [str(bad_file) if a == "BAD" else a for a in argv]
        err, out = io.StringIO(), io.StringIO()
        saved_tempdir = tempfile.tempdir
        with (
            pytest.MonkeyPatch.context() as mp,
            contextlib.chdir(root / "cwd"),
            contextlib.redirect_stderr(err),
            contextlib.redirect_stdout(out),
        ):
            mp.setenv("KUBECONFIG", str(root / "no-kubeconfig"))  # never reach the shared cluster
            mp.setenv("PLATFORM_VERIFY_ARTIFACTS", str(root / "tmp" / "artifacts"))
            tempfile.tempdir = str(root / "tmp")
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse refusing the argv itself
                code = int(exc.code or 0)
            finally:
                tempfile.tempdir = saved_tempdir
        left = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p != bad_file)
        return code, err.getvalue(), [p for p in left if p not in ("cwd", "tmp")]


def _assert_refused(argv: list[str], bad: bytes, codes: tuple[int, ...] = (1, 2)) -> None:
    code, err, left = _run(argv, bad)
    assert "Traceback" not in err, err
    assert code in codes, f"exit {code}, stderr {err!r}"
    # exit 2 (bad input) says why in one line; exit 1 is a verdict (violations, "no") on stdout
    lines = err.strip().splitlines()
    assert len(lines) == (1 if code == 2 else len(lines[:1])), f"want one line, got {err!r}"
    assert all(len(line) <= 400 for line in lines), err
    assert left == [], f"wrote {left}"


# ------------------------------------------------------------------------ strategies


def _real_docs(path: Path) -> list[Any]:
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    return [d for f in files for d in yaml.safe_load_all(f.read_text()) if d is not None]


def _real_text(path: Path) -> str:
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    return "\n---\n".join(f.read_text() for f in files)


class _DupMap(dict):
    """A mapping the dumper writes with one key twice."""

    def __init__(self, data: dict, key: str) -> None:
        super().__init__(data)
        self.key = key


class _DupDumper(yaml.SafeDumper):
    pass


_DupDumper.add_representer(
    _DupMap,
    lambda dumper, m: dumper.represent_mapping("tag:yaml.org,2002:map", [*m.items(), (m.key, m[m.key])]),
)


def _mappings(node: Any, out: list[dict]) -> list[dict]:
    if isinstance(node, dict):
        out.append(node)
        for value in node.values():
            _mappings(value, out)
    elif isinstance(node, list):
        for value in node:
            _mappings(value, out)
    return out


@st.composite
def duplicate_key(draw: st.DrawFn, base: Path) -> bytes:
    docs = _real_docs(base)
    doc_index = draw(st.integers(0, len(docs) - 1))
    doc = json.loads(json.dumps(docs[doc_index]))  # a private copy

    def rebuild(node: Any, target: int, counter: list[int]) -> Any:
        if isinstance(node, dict) and node:
            here = counter[0]
            counter[0] += 1
            rebuilt = {k: rebuild(v, target, counter) for k, v in node.items()}
            if here == target:
                return _DupMap(rebuilt, draw(st.sampled_from(sorted(rebuilt, key=str))))
            return rebuilt
        if isinstance(node, dict):
            return {k: rebuild(v, target, counter) for k, v in node.items()}
        if isinstance(node, list):
            return [rebuild(v, target, counter) for v in node]
        return node

    count = len([m for m in _mappings(doc, []) if m])
    target = draw(st.integers(0, count - 1))
    mutated = rebuild(doc, target, [0])
    others = [yaml.safe_dump(d) for i, d in enumerate(docs) if i != doc_index][:3]
    text = yaml.dump(mutated, Dumper=_DupDumper, sort_keys=False)
    return "---\n".join([*others, text]).encode()


@st.composite
def truncated_flow(draw: st.DrawFn, base: Path) -> bytes:
    docs = _real_docs(base)
    data: Any = docs[0] if base.is_file() else {"apiVersion": "v1", "kind": "List", "items": docs}
    text = json.dumps(data)  # JSON is flow YAML: a cut anywhere inside leaves a collection open
    return text[: draw(st.integers(1, len(text) - 1))].encode()


@st.composite
def truncated_block(draw: st.DrawFn, base: Path) -> bytes:
    text = _real_text(base).encode()
    return text[: draw(st.integers(0, len(text) - 1))]


@st.composite
def deep_nesting(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(101, 30_000))
    style = draw(st.sampled_from(["flow-seq", "flow-map", "block"]))
    if style == "flow-seq":
        return ("[" * depth + "]" * depth).encode()
    if style == "flow-map":
        return ("{a: " * depth + "1" + "}" * depth).encode()
    depth = min(depth, 2_000)  # block nesting costs depth^2 bytes of indentation
    return "".join(" " * i + "a:\n" for i in range(depth)).encode() + b" " * depth + b"1\n"


@st.composite
def alias_bomb(draw: st.DrawFn) -> bytes:
    width = draw(st.integers(4, 12))
    levels = draw(st.integers(5, 12))
    assume(width**levels > 200_000)
    return _bomb(width, levels)


def _bomb(width: int, levels: int) -> bytes:
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: lol}", "data:", '  l0: &l0 "lol"']
    for i in range(1, levels + 1):
        lines.append(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return ("\n".join(lines) + "\n").encode()


def _lenient_valid(dest: str, data: bytes) -> bool:
    """Input the argument rightly accepts (an empty or mapping Helm values file)."""
    if dest not in LENIENT:
        return False
    try:
        return isinstance(yaml.safe_load(data.decode()), dict | None)
    except (UnicodeDecodeError, yaml.YAMLError):
        return False


_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)


@pytest.mark.parametrize(("command", "dest", "argv", "base"), INVOCATIONS, ids=IDS)
@_SETTINGS
@given(data=st.data())
def test_random_bytes_and_text(command, dest, argv, base, data) -> None:
    bad = data.draw(st.one_of(st.binary(max_size=400), st.text(max_size=200).map(str.encode)))
    assume(not _lenient_valid(dest, bad))
    _assert_refused(argv, bad)


@pytest.mark.parametrize(("command", "dest", "argv", "base"), INVOCATIONS, ids=IDS)
@_SETTINGS
@given(data=st.data())
def test_truncated_flow_yaml(command, dest, argv, base, data) -> None:
    _assert_refused(argv, data.draw(truncated_flow(base)))


@pytest.mark.parametrize(("command", "dest", "argv", "base"), INVOCATIONS, ids=IDS)
@settings(_SETTINGS, max_examples=3)
@given(data=st.data())
def test_truncated_block_yaml_never_crashes(command, dest, argv, base, data) -> None:
    bad = data.draw(truncated_block(base))
    assume(not _lenient_valid(dest, bad))
    _assert_refused(argv, bad, codes=(0, 1, 2))


@pytest.mark.parametrize(("command", "dest", "argv", "base"), INVOCATIONS, ids=IDS)
@_SETTINGS
@given(data=st.data())
def test_duplicate_key(command, dest, argv, base, data) -> None:
    _assert_refused(argv, data.draw(duplicate_key(base)), codes=(2,))


@pytest.mark.parametrize(("command", "dest", "argv", "base"), INVOCATIONS, ids=IDS)
@_SETTINGS
@given(bad=st.one_of(deep_nesting(), alias_bomb()))
def test_deep_nesting_and_alias_bombs(command, dest, argv, base, bad) -> None:
    _assert_refused(argv, bad, codes=(2,))


@pytest.mark.parametrize(
    "bad",
    [
        b"\xff\xfe\x00binary",
        b"[" * 100_000 + b"]" * 100_000,  # crashed libyaml's recursive composer (SIGSEGV) before the depth scan
        _bomb(10, 9),
        b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  name: b\n",
        b"apiVersion: v1\nkind: Namespace\nmetadata: {name: a",
    ],
    ids=["binary", "deep", "bomb", "duplicate", "truncated"],
)
def test_real_process_refuses_in_one_line(bad: bytes, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_bytes(bad)
    proc = subprocess.run(
        [sys.executable, "-m", "verification", "rbac", "can-i", "get", "pods", "--as", "a", "--manifests", "bad.yaml"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "KUBECONFIG": str(tmp_path / "none")},
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("platform-verify: error: bad.yaml: ") and proc.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]
