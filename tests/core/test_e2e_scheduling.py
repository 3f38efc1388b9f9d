"""The e2e conftest's scheduling on fake modules, with no cluster: a module's jobs start as soon as
the stack is up and run while the other modules' tests do; the tests that await jobs run after
those, a module with AFTER_JOBS last; with no job module selected, no stack is deployed."""

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = """
from pathlib import Path

import pytest

from verification.e2e.conftest import alone, lanes, pytest_collection_modifyitems  # noqa: F401

LOG = Path(__file__).parent / "log.txt"


def log(line):
    with LOG.open("a") as out:
        out.write(line + "\\n")


def pytest_addoption(parser):
    parser.addoption("--artifacts")


@pytest.fixture(scope="session")
def artifacts(pytestconfig):
    root = Path(pytestconfig.getoption("--artifacts"))
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture(scope="session")
def stack():
    log("stack deployed")
    return "the stack"
"""

JOBS = """
import threading

from conftest import log
from verification.e2e.concurrent import Spec

JOB_ORDER = 1
started = threading.Event()


def job():
    log("job started")
    started.set()
    threading.Event().wait(0.5)  # still running while the quick test runs
    log("job finished")
    return 42


def jobs(lanes, stack, config, artifacts, items):
    assert stack == "the stack"
    return [Spec(item.nodeid, job) for item in items]


def test_awaits_its_job(lanes, request):
    log("awaiting test")
    assert lanes.result(request.node.nodeid, 10) == 42
"""

QUICK = """
from conftest import log


def test_quick():
    log("quick test")
"""

DRAIN = """
from conftest import log

AFTER_JOBS = True


def test_drain():
    log("drain test")
"""


def test_jobs_run_beside_the_other_modules_tests(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_a_jobs=JOBS, test_b_quick=QUICK, test_0_drain=DRAIN)
    result = pytester.runpytest("-p", "no:cacheprovider", f"--artifacts={tmp_path}", "-v")
    result.assert_outcomes(passed=3)
    order = [line.split("::")[0] for line in result.outlines if " PASSED" in line]
    assert order == ["test_b_quick.py", "test_a_jobs.py", "test_0_drain.py"], result.outlines
    log = (pytester.path / "log.txt").read_text().splitlines()
    assert log[0] == "stack deployed", log  # the jobs were submitted before any test ran
    assert log.index("quick test") < log.index("job finished"), f"the job did not run beside the quick test: {log}"
    assert log[-1] == "drain test"
    assert "test_a_jobs.py::test_awaits_its_job" in (tmp_path / "lanes.txt").read_text()


def test_no_job_module_selected_deploys_no_stack(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_a_jobs=JOBS, test_b_quick=QUICK)
    result = pytester.runpytest("-p", "no:cacheprovider", f"--artifacts={tmp_path}", "test_b_quick.py")
    result.assert_outcomes(passed=1)
    assert (pytester.path / "log.txt").read_text().splitlines() == ["quick test"]


def test_a_stack_that_fails_fails_only_the_tests_needing_it(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makeconftest(
        CONFTEST.replace(
            '    log("stack deployed")\n    return "the stack"',
            '    pytest.fail("platform stack not deployed: demo", pytrace=False)',
        )
    )
    pytester.makepyfile(test_a_jobs=JOBS, test_b_quick=QUICK)
    result = pytester.runpytest("-p", "no:cacheprovider", f"--artifacts={tmp_path}")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*LookupError: no live job ran: platform stack not deployed: demo*"])


ALONE = (
    JOBS.replace(
        "return [Spec(item.nodeid, job) for item in items]",
        'return [Spec(i.nodeid, job, shared=(APP_OBJECTS,)) for i in items if "alone" not in i.fixturenames]',
    ).replace("import Spec", "import APP_OBJECTS, Spec")
    + """

@pytest.mark.usefixtures("alone")
def test_holds_in_its_body():
    log("alone body")
"""
)


def test_a_test_holding_keys_in_its_body_runs_before_the_tests_awaiting_jobs(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    # Defined after the awaiting test, it still runs first: its hold waits for the job it conflicts
    # with, not for every job another test awaits.
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_a_jobs="import pytest\n" + ALONE, test_b_quick=QUICK)
    result = pytester.runpytest("-p", "no:cacheprovider", f"--artifacts={tmp_path}", "-v")
    result.assert_outcomes(passed=3)
    order = [line.split(" PASSED")[0] for line in result.outlines if " PASSED" in line]
    assert order == [
        "test_b_quick.py::test_quick",
        "test_a_jobs.py::test_holds_in_its_body",
        "test_a_jobs.py::test_awaits_its_job",
    ], result.outlines
    log = (pytester.path / "log.txt").read_text().splitlines()
    assert log.index("job finished") < log.index("alone body"), f"the body ran beside a job holding its key: {log}"
