"""The e2e cluster fixture: a real cluster or one clear failure (never a silent skip).

--cluster kind      create or reuse the kind cluster (`--cluster-name`, default platform-e2e,
                    the one `nox -s cluster -- up` makes); deleted afterwards only if this run
                    created it and --keep-cluster is not given.
--cluster existing  the cluster of --kubeconfig/--context, built elsewhere: preflighted (context,
                    reachability, SelfSubjectAccessReviews), deployed into with every object
                    labelled by run, and left as found (verification/cluster/existing.py).

pytest-kind provides the options (--cluster-name, --keep-cluster, --kubeconfig); its KindCluster
does not create the cluster, because for this suite it cannot serve (pytest-kind 22.11):
`create()` runs `kind create cluster` without `--retain`, so a failed create removes the node
before `kind export logs` can keep its journal, containerd and kubelet logs (the diagnostics this
suite promises); its subprocess calls have no timeout, so a hung create hangs the nightly job;
a failure surfaces as a CalledProcessError traceback instead of one line; and `ensure_kind()`
downloads kind from GitHub whenever the path it is given does not exist yet. verification.cluster
runs the same pinned kind binary and node image with those four handled.

The fixtures (cluster, stack, namespace, lanes) live here only: test modules name them, never
import them. A module with long live runs defines `jobs()` (and `JOB_ORDER`): its jobs start in
threads as soon as the stack is deployed (verification.e2e.concurrent) and its tests, run last,
await them, while pytest goes through the other modules' tests. Every failing test leaves its
evidence in <artifacts>/<test id>/ (verification.e2e.diagnostics, collected by the hook below, not
by the tests), listed at the end of the run and in JUnit; a failing job leaves the cluster's state
at the moment it failed there too (its probe pods may be gone by the time its test reports).
"""

import functools
import json
import os
import time
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from verification.cluster import cluster as providers
from verification.cluster import docker, existing, ownership
from verification.cluster.cluster import Cluster
from verification.e2e import diagnostics
from verification.e2e.concurrent import APP_OBJECTS, Lanes
from verification.e2e.stack import APPS, NAMESPACES, Stack, deploy
from verification.errors import UserError, VerificationError

PYTEST_KIND_DEFAULT_NAME = "pytest-kind"
JOBS_AT_ONCE = 5  # live jobs running at once; most of their time they wait on the cluster (2 cores)
JOB_TIMEOUT = 2400.0  # seconds the session waits for every job at its end


def _job_modules(items: list[pytest.Item]) -> dict[Any, list[pytest.Item]]:
    """The test modules with jobs, each with its selected items, in the order they submit."""
    found: dict[Any, list[pytest.Item]] = {}
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and hasattr(module, "jobs"):
            found.setdefault(module, []).append(item)
    return dict(sorted(found.items(), key=lambda pair: getattr(pair[0], "JOB_ORDER", 0)))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that await jobs run after the others (which run while the jobs do), those using
    `alone` first among them (their keys are taken as soon as the jobs allow, not after the longest
    job another test awaits); a module with AFTER_JOBS (a node drain, which no job may run beside)
    after those."""
    with_jobs = set(_job_modules(items))

    def place(item: pytest.Item) -> tuple[int, int]:
        module = getattr(item, "module", None)
        if getattr(module, "AFTER_JOBS", False):
            return 2, 0
        return int(module in with_jobs), int("alone" not in getattr(item, "fixturenames", ()))

    items.sort(key=place)


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
            yield from _existing(pytestconfig, artifacts)
            return
        name = _cluster_name(pytestconfig)
        try:
            docker.ensure_engine()
        except UserError as exc:
            pytest.fail(f"no Docker engine for the kind cluster: {exc}", pytrace=False)
        existed = name in providers.kind_clusters()
        found = providers.up(name, pytestconfig.getoption("--image-source"), nodes=pytestconfig.getoption("--nodes"))
    except VerificationError as exc:
        pytest.fail(f"cluster {provider!r} is not available: {exc}", pytrace=False)
    # benchmarks/e2e_phases.py reads this: a created cluster is the cold path, a reused one warm.
    timing = {"provider": provider, "created": not existed, "seconds": round(time.monotonic() - begun, 1)}
    (artifacts / "cluster-timings.json").write_text(json.dumps(timing) + "\n")
    pytestconfig.stash[diagnostics.CLUSTER] = found
    yield found
    if failures := pytestconfig.stash.get(diagnostics.FAILURES, None):  # once per session, before any delete
        failures.kind_logs = diagnostics.kind_logs(found, artifacts / "kind-logs")
    if not existed and not pytestconfig.getoption("--keep-cluster", default=False):
        providers.down(name)


def _existing(pytestconfig: pytest.Config, artifacts: Path) -> Iterator[Cluster]:
    """A cluster built elsewhere: refused up front (exit 2, one line) unless its context exists,
    answers and grants what the suite does; afterwards only what this run created is removed,
    and <artifacts>/existing-cluster-created.json lists it."""
    kubeconfig = pytestconfig.getoption("--kubeconfig", default=None) or os.environ.get("KUBECONFIG")
    if not kubeconfig:
        pytest.exit("--cluster existing refused: it needs --kubeconfig PATH (or KUBECONFIG)", returncode=2)
    try:
        found = existing.connect(Path(kubeconfig), pytestconfig.getoption("--context"), artifacts)
    except UserError as exc:
        pytest.exit(f"--cluster existing refused: {exc.line()}", returncode=2)
    assert found.run_id is not None
    pytestconfig.stash[diagnostics.CLUSTER] = found
    record = artifacts / "existing-cluster-created.json"
    try:
        yield found
    finally:
        ownership.record(record, found.run_id, ownership.created(found, found.run_id))
        ownership.remove(found, found.run_id)


@pytest.fixture(scope="session")
def stack(cluster: Cluster, artifacts: Path) -> Stack:
    """The platform, deployed once per session (verification.e2e.stack); if that fails, every test
    needing it fails with the same one line (pytest keeps a session fixture's error)."""
    deployed = Stack(cluster)
    # 72 probe pods of a killed run's generated-case lanes kept the next run's probes Pending (the
    # kubelet runs 110 pods per node): whatever a killed run could not delete goes first.
    cluster.kubectl("delete", "namespace", "-l", f"{ownership.SCRATCH}=true", "--ignore-not-found", timeout=300)
    begun = time.monotonic()
    try:
        deploy(deployed)
    except VerificationError as exc:
        done = ", ".join(name for name, _ in deployed.phases) or "nothing"
        pytest.fail(f"platform stack not deployed (done: {done}): {exc.line()}", pytrace=False)
    for app in APPS:  # a killed run's fault stays in the app's memory: the blue-green runs would see its errors
        deployed.set_fault(app, None)
    total = time.monotonic() - begun
    timings = {"total_seconds": round(total, 1), "phases": {n: round(s, 1) for n, s in deployed.phases}}
    (artifacts / "stack-timings.json").write_text(json.dumps(timings, indent=1) + "\n")
    print(f"\nstack deployed in {total:.0f}s: " + ", ".join(f"{n} {s:.0f}s" for n, s in deployed.phases))
    return deployed


@pytest.fixture(scope="session", autouse=True)
def lanes(request: pytest.FixtureRequest, pytestconfig: pytest.Config, artifacts: Path) -> Iterator[Lanes]:
    """Every selected module's jobs, submitted once the stack is deployed (none selected: no stack)."""
    running = Lanes(limit=JOBS_AT_ONCE)
    modules = _job_modules(request.session.items)
    deployed: Stack | None = None
    if modules:
        try:
            deployed = request.getfixturevalue("stack")
        except pytest.fail.Exception as exc:  # the tests needing no stack still run; the others say why
            running.unavailable = f"no live job ran: {str(exc).strip()}"
    if modules and deployed is not None:
        specs = [(spec.order if spec.order is not None else getattr(module, "JOB_ORDER", 0), spec)
                 for module, items in modules.items() for spec in module.jobs(running, deployed, pytestconfig,
                                                                                artifacts, items)]  # fmt: skip
        for _, spec in sorted(specs, key=lambda pair: pair[0]):  # stable: a module's own order stays
            run = functools.partial(diagnostics.guarded, pytestconfig, spec.name, spec.run, NAMESPACES)
            running.submit(spec.name, run, exclusive=spec.exclusive, shared=spec.shared, after=spec.after)
    yield running
    if running.jobs:
        running.finish(artifacts, "e2e", JOB_TIMEOUT)


@pytest.fixture
def alone(lanes: Lanes, request: pytest.FixtureRequest) -> Iterator[None]:
    """The test's body runs while no job changes an object of the apps' namespace (for tests that
    compare every object before and after, or plan against the live release)."""
    with lanes.hold(request.node.nodeid, exclusive=[APP_OBJECTS]):
        yield


@pytest.fixture
def namespace(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """A throw-away namespace (the test's diagnostics cover it)."""
    name = f"e2e-{request.node.name[:30].lower().replace('_', '-')}-{uuid.uuid4().hex[:5]}".replace("--", "-")
    cluster.kubectl("create", "namespace", name)
    cluster.kubectl("label", "namespace", name, f"{ownership.SCRATCH}=true")
    if cluster.run_id:  # a cluster the suite did not create: teardown's safety net finds it too
        cluster.kubectl("label", "namespace", name, *ownership.labels(cluster.run_id))
    diagnostics.touch(request, name)
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing phase leaves the cluster's evidence in <artifacts>/<test id>/, named in the
    report (a `diagnostics` section) and in JUnit (a `diagnostics` property)."""
    report = yield
    if call.when == "setup":
        item.stash[diagnostics.STARTED] = call.start
    if report.failed:
        folder = diagnostics.on_failure(item, call.when, call.excinfo.value if call.excinfo else None, NAMESPACES)
        report.sections.append(("diagnostics", str(folder)))
        item.user_properties.append(("diagnostics", str(folder)))  # JUnit writes the teardown report's
        if call.when == "teardown":
            report.user_properties.append(("diagnostics", str(folder)))
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Components e2e never runs, with the reason: listed in every run, never counted as passed.
    Then each failed test with the folder holding its evidence."""
    from verification.e2e import not_live

    for line in not_live.summary():
        terminalreporter.write_line(line, yellow=True)
    failures = config.stash.get(diagnostics.FAILURES, None)
    if failures:
        terminalreporter.section("e2e diagnostics")
        errors = {report.nodeid for report in terminalreporter.stats.get("error", [])}  # setup/teardown failed
        for nodeid, folder in failures.folders.items():
            terminalreporter.write_line(f"{'ERROR' if nodeid in errors else 'FAILED'} {nodeid}: {folder}", red=True)
        if failures.kind_logs:
            terminalreporter.write_line(failures.kind_logs)
