"""benchmarks/e2e_phases.py on a hand-made artifacts folder: shares add up, fixtures counted once."""

import importlib.util
import json
from pathlib import Path

import pytest

from verification.paths import REPO_ROOT

spec = importlib.util.spec_from_file_location("e2e_phases", REPO_ROOT / "benchmarks" / "e2e_phases.py")
assert spec and spec.loader
e2e_phases = importlib.util.module_from_spec(spec)
spec.loader.exec_module(e2e_phases)

JUNIT = """<?xml version="1.0"?><testsuites><testsuite>
<testcase classname="verification.e2e.test_alerts_live" name="a" time="100.0"/>
<testcase classname="verification.e2e.test_alerts_live" name="b" time="20.0"/>
<testcase classname="verification.e2e.test_nodes" name="c" time="5.5"/>
</testsuite></testsuites>"""


def _artifacts(tmp_path: Path, created: bool) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "junit-e2e.xml").write_text(JUNIT)
    (tmp_path / "e2e-setup-timings.json").write_text(json.dumps({"install": 10, "tools": 2, "crds": 1}))
    (tmp_path / "e2e-pytest-seconds.json").write_text("130")
    (tmp_path / "cluster-timings.json").write_text(json.dumps({"provider": "kind", "created": created, "seconds": 40}))
    (tmp_path / "stack-timings.json").write_text(json.dumps({"total_seconds": 30, "phases": {"CRDs": 8, "wait": 22}}))
    return tmp_path


def test_phases_take_fixture_time_out_of_the_first_module(tmp_path: Path) -> None:
    rows = dict(e2e_phases.phases(_artifacts(tmp_path, created=True)))
    assert rows["cluster kind created (cold)"] == 40
    assert rows["stack deploy"] == 30 and rows["  stack: CRDs"] == 8
    assert rows["tests: test_alerts_live"] == 120 - 70  # the first module set up cluster and stack
    assert rows["tests: test_nodes"] == 5.5
    assert rows["pytest: collection, teardown, other"] == pytest.approx(130 - 70 - 55.5)
    top_level = sum(v for k, v in rows.items() if not k.startswith("  "))
    assert top_level == pytest.approx(13 + 130)  # nox setup + pytest wall: nothing counted twice


def test_reused_cluster_is_the_warm_path(tmp_path: Path) -> None:
    assert "cluster kind reused (warm)" in dict(e2e_phases.phases(_artifacts(tmp_path, created=False)))


def test_no_run_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"no e2e run in .*: run `nox -s e2e` first"):
        e2e_phases.phases(tmp_path)


def test_before_and_after_phase_by_phase(tmp_path: Path) -> None:
    before = e2e_phases.phases(_artifacts(tmp_path / "before", created=False))
    after_dir = _artifacts(tmp_path / "after", created=False)
    faster = JUNIT.replace('time="100.0"', 'time="80.0"').replace("test_nodes", "test_other")
    (after_dir / "junit-e2e.xml").write_text(faster)
    (after_dir / "e2e-pytest-seconds.json").write_text("110")
    after = e2e_phases.phases(after_dir)
    lines = e2e_phases.compare(before, after)
    table = {line.split("  ")[1].strip(): line.split()[-3:] for line in lines[1:]}
    assert table["tests: test_alerts_live"] == ["50.0s", "30.0s", "0.60"]  # 100 - 70 of cluster and stack
    assert table["tests: test_other"] == ["-", "5.5s", "-"]  # only the later run had it
    assert table["tests: test_nodes"] == ["5.5s", "-", "-"]
    assert table["total"] == ["143.0s", "123.0s", "0.86"]  # nox setup 13 + pytest wall 110


def test_jobs_side_by_side_are_summed_against_their_wall_time() -> None:
    jobs = [
        {"job": "verification/e2e/test_a.py::test_x", "start": 10.0, "end": 110.0},
        {"job": "netpol: probe pods", "start": 10.0, "end": 60.0},
        {"job": "alerts: setup", "start": 60.0, "end": 70.0},
    ]
    lines = e2e_phases.job_summary(jobs, longest=2)
    assert lines[0].startswith("live jobs beside the tests: 3 jobs, 160 s of job time in 100 s wall (1.6 at once")
    assert [line.split()[0] for line in lines[1:]] == ["test_a.py::test_x", "netpol:"]  # longest first, folder cut
    assert e2e_phases.job_summary([]) == []
