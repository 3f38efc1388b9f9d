"""The e2e failure hook (verification/e2e/conftest.py) on fake tests, with no cluster: what it asks
the cluster for, where the evidence goes, what the summary and JUnit say, and that collection
neither hides a test's own failure nor runs past its time."""

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from verification.e2e import diagnostics

pytest_plugins = ["pytester"]

# The hook and summary of the e2e conftest, with a fake cluster that answers every kubectl call
# and writes down what it was asked (FAKE picks its behaviour).
CONFTEST = """
import time
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from verification.e2e import diagnostics
from verification.e2e.conftest import pytest_runtest_makereport, pytest_terminal_summary  # noqa: F401

FAKE = {fake!r}


class FakeCluster:
    name = "fake"
    provider = "existing"

    def __init__(self, asked: Path) -> None:
        self.asked = asked

    def kubectl(self, *args, input=None, check=True, timeout=120):
        with self.asked.open("a") as log:
            log.write(" ".join(args) + "\\n")
        if FAKE == "broken":
            raise RuntimeError("the API server is gone")
        if FAKE == "slow":
            time.sleep(0.3)
        if args[:2] == ("get", "pods") and "-n" in args:
            return CompletedProcess(args, 0, "pod/web-1\\n", "")
        return CompletedProcess(args, 0, "output of " + " ".join(args) + "\\n", "")


def pytest_addoption(parser):
    parser.addoption("--artifacts")


def pytest_configure(config):
    root = Path(config.getoption("--artifacts"))
    root.mkdir(parents=True, exist_ok=True)
    config.stash[diagnostics.CLUSTER] = FakeCluster(root / "asked.txt")


@pytest.fixture
def ns(request):
    diagnostics.touch(request, "demo-ns")
    return "demo-ns"


@pytest.fixture(scope="session")
def broken():
    pytest.fail("platform stack not deployed: demo", pytrace=False)


@pytest.fixture
def breaks_on_teardown(ns):
    yield
    raise RuntimeError("teardown broke")
"""

TESTS = """
from pathlib import Path


def test_fails(ns, request):
    out = Path(request.config.getoption("--artifacts")) / "bluegreen" / "run"
    out.mkdir(parents=True)
    (out / "requests.jsonl").write_text("{}\\n")
    assert 1 == 2, "verdict: expected 1, observed 2"


def test_passes(ns):
    pass


def test_needs_broken_a(broken):
    pass


def test_needs_broken_b(broken):
    pass


def test_fails_then_its_teardown(breaks_on_teardown, request):
    out = Path(request.config.getoption("--artifacts")) / "alerts" / "case"
    out.mkdir(parents=True)
    (out / "requests.jsonl").write_text("{}\\n")
    assert False, "call broke"
"""


def _run(pytester: pytest.Pytester, fake: str = "ok") -> tuple[pytest.RunResult, Path]:
    pytester.makeconftest(CONFTEST.format(fake=fake))
    pytester.makepyfile(test_fake=TESTS)
    artifacts = pytester.path / "artifacts"
    return pytester.runpytest(f"--artifacts={artifacts}", f"--junitxml={artifacts / 'junit.xml'}"), artifacts


def test_failing_test_gets_its_namespaces_load_and_a_summary_line(pytester: pytest.Pytester) -> None:
    result, artifacts = _run(pytester)
    result.assert_outcomes(passed=1, failed=2, errors=3)
    folder = artifacts / "test_fake.test_fails"
    assert sorted(p.name for p in folder.iterdir()) == [
        "all-pods.txt", "demo-ns-describe-monitoring.txt", "demo-ns-describe.txt", "demo-ns-events.txt",
        "demo-ns-web-1.log", "load", "nodes.txt",
    ]  # fmt: skip
    assert (folder / "load" / "bluegreen_run_requests.jsonl").read_text() == "{}\n"
    assert not (artifacts / "test_fake.test_passes").exists()
    asked = (artifacts / "asked.txt").read_text().splitlines()
    assert "logs -n demo-ns web-1 --all-containers --prefix --tail=2000" in asked
    summary = result.stdout.str().split("e2e diagnostics")[1]
    assert f"FAILED test_fake.py::test_fails: {folder}" in summary


def test_one_failed_session_fixture_is_collected_once_for_every_test(pytester: pytest.Pytester) -> None:
    result, artifacts = _run(pytester)
    folder = artifacts / "test_fake.test_needs_broken_a"
    asked = (artifacts / "asked.txt").read_text().splitlines()
    # No namespace was recorded: every platform namespace, once for both tests.
    assert asked.count("get events -n monitoring --sort-by=.lastTimestamp") == 1
    assert not (artifacts / "test_fake.test_needs_broken_b").exists()
    result.stdout.fnmatch_lines([f"ERROR test_fake.py::test_needs_broken_a: {folder}",
                                 f"ERROR test_fake.py::test_needs_broken_b: {folder}"])  # fmt: skip


def test_a_failed_teardown_after_a_failed_call_keeps_both(pytester: pytest.Pytester) -> None:
    _, artifacts = _run(pytester)
    folder = artifacts / "test_fake.test_fails_then_its_teardown"
    assert (folder / "load" / "alerts_case_requests.jsonl").exists()
    assert (folder / "teardown" / "demo-ns-events.txt").exists()
    assert not (folder / "teardown" / "collection-errors.txt").exists()
    assert not list((folder / "teardown").glob("load/*"))  # the call's evidence is not linked twice


def test_junit_carries_the_verdict_and_the_folder(pytester: pytest.Pytester) -> None:
    _, artifacts = _run(pytester)
    case = next(c for c in ET.parse(artifacts / "junit.xml").iter("testcase") if c.get("name") == "test_fails")
    failure = case.find("failure")
    assert failure is not None and "verdict: expected 1, observed 2" in (failure.get("message") or "")
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props == {"diagnostics": str(artifacts / "test_fake.test_fails")}


def test_a_broken_cluster_does_not_hide_the_failure(pytester: pytest.Pytester) -> None:
    result, artifacts = _run(pytester, "broken")
    result.assert_outcomes(passed=1, failed=2, errors=3)
    result.stdout.fnmatch_lines(["*verdict: expected 1, observed 2*"])
    errors = (artifacts / "test_fake.test_fails" / "collection-errors.txt").read_text()
    assert "kubectl get nodes -o wide: the API server is gone" in errors


def test_collection_stops_at_its_deadline(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diagnostics, "PER_TEST", 2.5)
    monkeypatch.setattr(diagnostics, "PER_SESSION", 4.0)
    result, artifacts = _run(pytester, "slow")
    result.assert_outcomes(passed=1, failed=2, errors=3)
    asked = (artifacts / "asked.txt").read_text().splitlines()
    # 0.3s or more per call, no call started with less than 1s left: the pod's logs (6th call) never
    # came, and the session stopped asking once its 4s were spent.
    assert "logs -n demo-ns web-1 --all-containers --prefix --tail=2000" not in asked
    assert len(asked) <= 4.0 / 0.3 + 1, asked
    first = (artifacts / "test_fake.test_fails" / "collection-errors.txt").read_text()
    assert "not run, the 2s for this test are spent" in first
    second = (artifacts / "test_fake.test_needs_broken_a" / "collection-errors.txt").read_text()
    assert "not run" in second or "for diagnostics are spent" in second


@pytest.mark.parametrize(
    ("nodeid", "name"),
    [
        ("verification/e2e/test_x.py::test_y[a/b c]", "test_x.test_y_a_b_c_"),
        ("test_x.py::Case::test_y", "test_x.Case_test_y"),
    ],
)
def test_folder_name_is_one_safe_path_component(nodeid: str, name: str) -> None:
    assert diagnostics.folder_name(nodeid) == name


DOCKER_TESTS = """
import pytest

from verification.e2e import diagnostics


@pytest.fixture
def started(request):
    names = diagnostics.containers(request)
    yield names
    names.clear()  # removed after the report, as test_images' fixture does


def test_container_fails(started):
    started.extend(["web", "gone"])
    assert False, "the container did not answer"


def test_container_passes(started):
    started.append("web")
"""
FAKE_DOCKER = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/docker-asked.txt"
if [ "$4" = gone ]; then echo "Error: No such container: gone" >&2; exit 1; fi
echo "stdout of $4"; echo "stderr of $4" >&2
"""


def test_failing_test_gets_the_logs_of_its_docker_containers(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = pytester.mkdir("fakebin")
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    pytester.makeconftest(CONFTEST.format(fake="ok"))
    pytester.makepyfile(test_fake=DOCKER_TESTS)
    artifacts = pytester.path / "artifacts"
    result = pytester.runpytest(f"--artifacts={artifacts}")
    result.assert_outcomes(passed=1, failed=1)
    folder = artifacts / "test_fake.test_container_fails"
    assert (folder / "container-web.log").read_text() == "stdout of web\nstderr of web\n"
    assert not (folder / "container-gone.log").exists()
    errors = (folder / "collection-errors.txt").read_text()
    assert "docker logs gone: exit 1: Error: No such container: gone" in errors
    # Only the failing test's containers were asked for, with the tail length of the module.
    asked = (bin_dir / "docker-asked.txt").read_text().splitlines()
    assert asked == [f"logs --tail {diagnostics.DOCKER_LOG_LINES} {name}" for name in ("web", "gone")]
