"""The runc wrapper's spec rewriting on sample OCI JSON (builds the small Go program; no Docker)."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from verification.cluster import runc_wrapper

ALL_CAPS = ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_SYS_RESOURCE", "CAP_NET_ADMIN"]
BIG = 9223372036854775807  # must survive the rewrite exactly (float64 would round it)


@pytest.fixture(scope="module")
def wrapper() -> Path:
    if shutil.which("go") is None:
        pytest.skip("the Go toolchain is needed to build the runc wrapper")
    return runc_wrapper.build("/bin/true")


def _proc(tmp_path: Path, capbnd: str, oom: int) -> dict[str, str]:
    status = tmp_path / "status"
    status.write_text(f"Name:\tx\nCapBnd:\t{capbnd}\n")
    oom_file = tmp_path / "oom"
    oom_file.write_text(f"{oom}\n")
    return {"RUNC_WRAPPER_PROC_STATUS": str(status), "RUNC_WRAPPER_OOM_SCORE_ADJ": str(oom_file)}


def _spec(oom: int) -> dict:
    caps = {k: list(ALL_CAPS) for k in ("bounding", "effective", "permitted")}
    return {
        "ociVersion": "1.2.0",
        "process": {"args": ["/pause"], "capabilities": caps, "oomScoreAdj": oom},
        "linux": {"resources": {"memory": {"limit": BIG}}},
    }


def _run(wrapper: Path, args: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
    subprocess.run([str(wrapper), *args], env=env, cwd=cwd, check=True, capture_output=True)


def test_create_drops_missing_capability_and_clamps_oom(wrapper: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "config.json").write_text(json.dumps(_spec(-998)))
    env = _proc(tmp_path, "000001fffeffffff", -500)
    _run(wrapper, ["--root", "/run/runc", "--log", "x.log", "create", "--bundle", str(bundle), "id1"], env)
    spec = json.loads((bundle / "config.json").read_text())
    for caps in spec["process"]["capabilities"].values():
        assert caps == ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"]
    assert spec["process"]["oomScoreAdj"] == -500
    assert spec["linux"]["resources"]["memory"]["limit"] == BIG


def test_bundle_defaults_to_current_directory(wrapper: Path, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(_spec(0)))
    _run(wrapper, ["run", "id2"], _proc(tmp_path, "000001fffeffffff", 0), cwd=tmp_path)
    spec = json.loads((tmp_path / "config.json").read_text())
    assert "CAP_SYS_RESOURCE" not in spec["process"]["capabilities"]["bounding"]


def test_exec_process_file_is_rewritten(wrapper: Path, tmp_path: Path) -> None:
    process = tmp_path / "process.json"
    process.write_text(json.dumps({"args": ["sh"], "capabilities": {"effective": list(ALL_CAPS)}}))
    _run(wrapper, ["exec", "--process", str(process), "--detach", "id3"], _proc(tmp_path, "000001fffeffffff", 0))
    kept = json.loads(process.read_text())["capabilities"]["effective"]
    assert kept == ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"]


def test_untouched_when_nothing_is_missing(wrapper: Path, tmp_path: Path) -> None:
    original = json.dumps(_spec(-998))
    (tmp_path / "config.json").write_text(original)
    _run(wrapper, ["create", "-b", str(tmp_path), "id4"], _proc(tmp_path, "000001ffffffffff", 0))
    assert (tmp_path / "config.json").read_text() == original


def test_other_commands_pass_through(wrapper: Path, tmp_path: Path) -> None:
    _run(wrapper, ["--root", "/run/runc", "state", "id5"], _proc(tmp_path, "000001fffeffffff", 0))
