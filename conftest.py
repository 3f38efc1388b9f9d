"""Options and markers shared by every suite (unit, conformance, e2e)."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("platform", "platform verification")
    group.addoption(
        "--cluster",
        choices=["kind", "existing"],
        default="kind",
        help="cluster provider for e2e: create/reuse a kind cluster, or use --kubeconfig non-destructively",
    )
    group.addoption(
        "--image-source",
        choices=["pull", "build", "auto"],
        default="auto",
        help="where e2e images come from: upstream registries, built offline here, or pull if a registry answers",
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The folder decides the suite, so nobody can forget a marker.
    for item in items:
        parts = Path(str(item.fspath)).relative_to(REPO_ROOT).parts
        if parts[:2] == ("verification", "conformance"):
            item.add_marker(pytest.mark.conformance)
        elif parts[:2] == ("verification", "e2e"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def artifacts(pytestconfig: pytest.Config) -> Path:
    path = Path(pytestconfig.getoption("--artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path
