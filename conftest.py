"""Options and markers shared by every suite (unit, conformance, e2e)."""

import argparse
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent
# A deliberately failing e2e example (verification/e2e/test_diagnostics_demo.py): it shows the
# folder the failure hook leaves, so it runs only when `-m` names it.
DEMO = "diagnostics_demo"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{DEMO}: fails on purpose to show its diagnostics; only with -m {DEMO}")


def _at_least_one(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("platform", "platform verification")
    group.addoption(
        "--cluster",
        choices=["kind", "existing"],
        default="kind",
        help="cluster provider for e2e: create/reuse a kind cluster, or use --kubeconfig non-destructively",
    )
    group.addoption(
        "--context",
        default=None,
        help="with --cluster existing: the kubeconfig context (default: its current-context)",
    )
    group.addoption(
        "--image-source",
        choices=["pull", "build", "registry", "auto"],
        default="auto",
        help="where e2e images come from: upstream registries, built offline here (side-loaded), built here "
        "and pulled from a local registry (crane), or pull if a registry answers",
    )
    group.addoption(
        "--nodes",
        type=int,
        default=1,
        help="with --cluster kind: nodes of the cluster, one control-plane and N-1 workers (default 1, the "
        "fastest; the drain test needs 3). A reused cluster must have that many",
    )
    group.addoption(
        "--netpol-cases",
        type=int,
        default=36,
        help="generated NetworkPolicy cases probed live (default 36, six batches: the pre-merge run; the "
        "nightly job runs 216)",
    )
    group.addoption(
        "--flips",
        type=_at_least_one,
        default=3,
        help="blue-green flips per app under load (default 3: switch, rollback, switch, both directions and "
        "both actions, the pre-merge run; the nightly job runs 5)",
    )
    group.addoption(
        "--netpol-offset",
        type=int,
        default=0,
        help="number of the first generated case: a long run in chunks (0, 72, 144 with --netpol-cases 72) "
        "probes exactly the cases one run would, the generator drawing them in order from one seed",
    )
    group.addoption(
        "--artifacts",
        default=str(REPO_ROOT / "artifacts"),
        help="folder for logs, request logs, plots, JUnit and cluster diagnostics",
    )
    group.addoption(
        "--e2e-profile",
        default="e2e",
        help="timing profile for e2e: chart values platform/environments/<profile>/ and monitoring "
        "intervals platform/monitoring-tests/timing-profiles.yaml",
    )


def pytest_collection_finish(session: pytest.Session) -> None:
    # hypothesis's pytest plugin imports hypothesis for its terminal summary even when no test
    # uses it: in a conformance run that was 1-2 s of CPU (its ~70 modules compiled and
    # assertion-rewritten where bytecode is not cached). No collected module imported hypothesis,
    # so no test can use it and the plugin has nothing to report.
    if "hypothesis" not in sys.modules:
        plugin = session.config.pluginmanager.get_plugin("hypothesispytest")
        if plugin is not None:
            session.config.pluginmanager.unregister(plugin)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The folder decides the suite, so nobody can forget a marker.
    for item in items:
        parts = Path(str(item.fspath)).relative_to(REPO_ROOT).parts
        if parts[:2] == ("verification", "conformance"):
            item.add_marker(pytest.mark.conformance)
        elif parts[:2] == ("verification", "e2e"):
            item.add_marker(pytest.mark.e2e)
    if DEMO not in (config.getoption("markexpr") or ""):
        demo = [item for item in items if item.get_closest_marker(DEMO)]
        config.hook.pytest_deselected(items=demo)
        items[:] = [item for item in items if item not in demo]


@pytest.fixture(scope="session")
def artifacts(pytestconfig: pytest.Config) -> Path:
    path = Path(pytestconfig.getoption("--artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path
