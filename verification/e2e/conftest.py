"""The e2e cluster fixture: a real cluster or one clear failure (never a silent skip).

--cluster kind      create or reuse the kind cluster (`--cluster-name`, default platform-e2e,
                    the one `nox -s cluster -- up` makes); deleted afterwards only if this run
                    created it and --keep-cluster is not given.
--cluster existing  the cluster in --kubeconfig, used without disturbing it (temporary namespaces).

pytest-kind provides the options (--cluster-name, --keep-cluster, --kubeconfig); its KindCluster
does not create the cluster, because for this suite it cannot serve (pytest-kind 22.11):
`create()` runs `kind create cluster` without `--retain`, so a failed create removes the node
before `kind export logs` can keep its journal, containerd and kubelet logs (the diagnostics this
suite promises); its subprocess calls have no timeout, so a hung create hangs the nightly job;
a failure surfaces as a CalledProcessError traceback instead of one line; and `ensure_kind()`
downloads kind from GitHub whenever the path it is given does not exist yet. verification.cluster
runs the same pinned kind binary and node image with those four handled.
"""

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from verification import tools
from verification.cluster import cluster as providers
from verification.cluster import docker
from verification.cluster.cluster import Cluster
from verification.e2e import diagnostics
from verification.errors import CommandError, UserError, WaitTimeout

PYTEST_KIND_DEFAULT_NAME = "pytest-kind"


def _cluster_name(config: pytest.Config) -> str:
    name = config.getoption("--cluster-name", default=None)
    return providers.DEFAULT_NAME if name in (None, PYTEST_KIND_DEFAULT_NAME) else name


@pytest.fixture(scope="session")
def cluster(pytestconfig: pytest.Config, artifacts: Path) -> Iterator[Cluster]:
    provider = pytestconfig.getoption("--cluster")
    begun = time.monotonic()
    existed = True
    try:
        if provider == "existing":
            kubeconfig = pytestconfig.getoption("--kubeconfig", default=None) or os.environ.get("KUBECONFIG")
            if not kubeconfig:
                pytest.fail("--cluster existing needs --kubeconfig PATH (or KUBECONFIG)", pytrace=False)
            yield providers.existing(Path(kubeconfig))
            return
        name = _cluster_name(pytestconfig)
        try:
            docker.ensure_engine()
        except UserError as exc:
            pytest.fail(f"no Docker engine for the kind cluster: {exc}", pytrace=False)
        existed = name in providers.kind_clusters()
        found = providers.up(name, pytestconfig.getoption("--image-source"))
    except (UserError, CommandError, WaitTimeout) as exc:
        pytest.fail(f"cluster {provider!r} is not available: {exc}", pytrace=False)
    # benchmarks/e2e_phases.py reads this: a created cluster is the cold path, a reused one warm.
    timing = {"provider": provider, "created": not existed, "seconds": round(time.monotonic() - begun, 1)}
    (artifacts / "cluster-timings.json").write_text(json.dumps(timing) + "\n")
    yield found
    if not existed and not pytestconfig.getoption("--keep-cluster", default=False):
        providers.down(name)


@pytest.fixture
def namespace(cluster: Cluster, artifacts: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A throw-away namespace; its events and objects go to the artifacts folder afterwards."""
    name = f"e2e-{request.node.name[:30].lower().replace('_', '-')}-{uuid.uuid4().hex[:5]}".replace("--", "-")
    cluster.kubectl("create", "namespace", name)
    try:
        yield name
    finally:
        diagnostics.collect(tools.require("kubectl").path, cluster.kubeconfig, [name], artifacts / "namespaces" / name)
        cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Components e2e never runs, with the reason: listed in every run, never counted as passed."""
    from verification.e2e import not_live

    for line in not_live.summary():
        terminalreporter.write_line(line, yellow=True)
