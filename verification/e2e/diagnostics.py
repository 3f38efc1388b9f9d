"""Evidence for a failed e2e test, gathered by the failure hook of verification/e2e/conftest.py.

Into <artifacts>/<test id>/: nodes and pods; events, `describe` and pod logs of the namespaces the
test touched (recorded by fixtures with `touch`, else every platform namespace); the logs of the
Docker containers it ran (recorded with `containers`); the request logs and timelines of the load
it ran. `kind export logs` runs once per session. Collection never raises
and is bounded in time (a broken cluster must neither hang the run nor hide the test's failure);
what it could not get goes to collection-errors.txt.
"""

import contextlib
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from verification import tools
from verification.cluster.cluster import Cluster
from verification.run import run

PER_TEST = 120.0  # seconds of collection for one failed test
PER_SESSION = 900.0  # for the whole run: a cluster that fails every test must not add hours
MTIME_SLACK = 0.1  # seconds
LOAD_FILES = ("requests.jsonl", "summary.json", "timeline.png")  # what verification.load writes
DOCKER_LOG_LINES = 200  # the tail of each recorded container's log


@dataclass
class Failures:
    root: Path  # the artifacts folder
    folders: dict[str, Path] = field(default_factory=dict)  # test id -> its evidence
    errors: dict[int, tuple[BaseException, Path]] = field(default_factory=dict)  # one error, one collection
    spent: float = 0.0  # seconds of collection so far
    kind_logs: str = ""  # what `kind export logs` gave


CLUSTER = pytest.StashKey[Cluster]()  # config: set by the cluster fixture once it is up
FAILURES = pytest.StashKey[Failures]()  # config
TOUCHED = pytest.StashKey[list[str]]()  # any node: namespaces its tests work in
CONTAINERS = pytest.StashKey[list[str]]()  # any node: Docker containers its tests run
STARTED = pytest.StashKey[float]()  # item: epoch its setup began (newer load files are its own)


def touch(request: pytest.FixtureRequest, *namespaces: str) -> None:
    """Record namespaces the requesting test (or module, for a module fixture) works in."""
    request.node.stash.setdefault(TOUCHED, []).extend(namespaces)


def containers(request: pytest.FixtureRequest) -> list[str]:
    """The Docker containers the requesting test (or module) runs, to append to: a failure keeps
    their logs, so the fixture that removes them must tear down after the test (not in the test)."""
    running: list[str] = request.node.stash.setdefault(CONTAINERS, [])
    return running


def folder_name(nodeid: str) -> str:
    """`e2e/test_x.py::test_y[a/b]` -> `test_x.test_y_a_b_`: one path component."""
    path, _, name = nodeid.partition("::")
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{Path(path).stem}.{name}")[:150]


def collect(cluster: Cluster, namespaces: Iterable[str], dest: Path, seconds: float) -> list[str]:
    """Nodes, pods, and per namespace events, describe and pod logs under `dest`; what failed."""
    deadline = time.monotonic() + seconds
    failures: list[str] = []

    def kubectl(*args: str, into: str = "") -> str:
        remaining = deadline - time.monotonic()
        if remaining <= 1:
            failures.append(f"kubectl {' '.join(args)}: not run, the {seconds:.0f}s for this test are spent")
            return ""
        try:
            proc = cluster.kubectl(*args, check=False, timeout=min(60, remaining))
        except Exception as exc:  # noqa: BLE001 - a timeout or a missing kubectl is recorded, never raised
            failures.append(f"kubectl {' '.join(args)}: {exc}")
            return ""
        if proc.returncode != 0:
            failures.append(f"kubectl {' '.join(args)}: exit {proc.returncode}: {proc.stderr.strip()[-300:]}")
        if into:
            (dest / into).write_text(proc.stdout)
        return str(proc.stdout)

    kubectl("get", "nodes", "-o", "wide", into="nodes.txt")
    kubectl("get", "pods", "-A", "-o", "wide", into="all-pods.txt")
    for ns in namespaces:
        kubectl("get", "events", "-n", ns, "--sort-by=.lastTimestamp", into=f"{ns}-events.txt")
        kubectl("describe", "all,networkpolicies,pdb", "-n", ns, into=f"{ns}-describe.txt")
        # Apart: a kind without its CRD (the cluster half set up) must not blank the built-in kinds.
        kubectl("describe", "servicemonitors,prometheusrules", "-n", ns, into=f"{ns}-describe-monitoring.txt")
        for pod in kubectl("get", "pods", "-n", ns, "-o", "name").split():
            name = pod.split("/", 1)[-1]
            kubectl("logs", "-n", ns, name, "--all-containers", "--prefix", "--tail=2000", into=f"{ns}-{name}.log")
    return failures


def docker_logs(names: Iterable[str], dest: Path) -> list[str]:
    """The last lines each container printed (stdout and stderr), one file each under `dest`; what failed."""
    failures = []
    for name in names:
        try:
            proc = run(["docker", "logs", "--tail", str(DOCKER_LOG_LINES), name], check=False, timeout=60)
        except Exception as exc:  # noqa: BLE001 - a missing docker or a timeout is recorded, never raised
            failures.append(f"docker logs {name}: {exc}")
            continue
        if proc.returncode != 0:
            failures.append(f"docker logs {name}: exit {proc.returncode}: {proc.stderr.strip()[-300:]}")
        else:
            (dest / f"container-{name[:20]}.log").write_text(proc.stdout + proc.stderr)
    return failures


def link_load_files(root: Path, since: float, dest: Path) -> None:
    """Request logs, summaries and timelines written under `root` since `since`, linked into dest/load."""
    for found in (f for name in LOAD_FILES for f in root.rglob(name)):
        # Two clocks (a file system's stamp, pytest's time.time()) compared with no allowance is
        # fragile: timestamp granularity is the file system's. CI missed a file written right
        # after setup began once (not reproduced in 50 runs here); the allowance is that margin.
        if found.stat().st_mtime >= since - MTIME_SLACK and dest not in found.parents:
            target = dest / "load" / "_".join(found.relative_to(root).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(found, target)  # no second copy of a large request log
            except OSError:
                shutil.copy2(found, target)


def on_failure(item: pytest.Item, when: str, error: BaseException | None, fallback: Iterable[str]) -> Path:
    """Collect the evidence of `item`'s failure in phase `when`; returns its folder. Raises nothing."""
    state = item.config.stash.setdefault(FAILURES, Failures(Path(item.config.getoption("--artifacts"))))
    if error is not None and id(error) in state.errors:
        # The same error again: a session or module fixture failed once and fails every test
        # needing it; its evidence was collected for the first of them.
        state.folders[item.nodeid] = state.errors[id(error)][1]
        return state.folders[item.nodeid]
    earlier = state.folders.get(item.nodeid)  # the call failed, then the teardown: both kept
    dest = earlier / when if earlier else state.root / folder_name(item.nodeid)
    state.folders.setdefault(item.nodeid, dest)
    if error is not None:
        state.errors[id(error)] = (error, dest)
    begun = time.monotonic()
    problems: list[str] = []
    try:
        dest.mkdir(parents=True, exist_ok=True)
        if not earlier:  # a later phase's load files are the same ones
            link_load_files(state.root, item.stash.get(STARTED, time.time()), dest)
        chain = item.listchain()
        problems += docker_logs(dict.fromkeys(c for node in chain for c in node.stash.get(CONTAINERS, [])), dest)
        namespaces = list(dict.fromkeys(ns for node in chain for ns in node.stash.get(TOUCHED, [])))
        cluster = item.config.stash.get(CLUSTER, None)
        if cluster is None:
            problems.append("no cluster: the cluster fixture did not come up, nothing to ask")
        elif state.spent >= PER_SESSION:
            problems.append(f"cluster not asked: the run's {PER_SESSION:.0f}s for diagnostics are spent")
        else:
            problems += collect(cluster, namespaces or fallback, dest, min(PER_TEST, PER_SESSION - state.spent))
    except Exception as exc:  # noqa: BLE001 - evidence is best effort, the test's own failure stands
        problems.append(f"collection stopped: {type(exc).__name__}: {exc}")
    state.spent += time.monotonic() - begun
    if problems:
        with contextlib.suppress(OSError):
            (dest / "collection-errors.txt").write_text("\n".join(problems) + "\n")
    return dest


def guarded(config: pytest.Config, name: str, run: Callable[[], Any], namespaces: Iterable[str]) -> Any:
    """`run()`; if it raises, the cluster's state at that moment goes to <artifacts>/<job id>/at-job-failure
    first (a job's pods may be gone when its test reports), then the error goes on."""
    try:
        return run()
    except BaseException:
        state = config.stash.setdefault(FAILURES, Failures(Path(config.getoption("--artifacts"))))
        dest = state.root / folder_name(name) / "at-job-failure"
        cluster = config.stash.get(CLUSTER, None)
        if cluster is not None and state.spent < PER_SESSION:
            begun = time.monotonic()
            with contextlib.suppress(Exception):
                dest.mkdir(parents=True, exist_ok=True)
                problems = collect(cluster, namespaces, dest, min(PER_TEST, PER_SESSION - state.spent))
                if problems:
                    (dest / "collection-errors.txt").write_text("\n".join(problems) + "\n")
            state.spent += time.monotonic() - begun
        raise


def kind_logs(cluster: Cluster, dest: Path) -> str:
    """`kind export logs` (node journal, containerd, kubelet) into dest; a note saying how it went."""
    if cluster.provider != "kind":
        return f"no kind logs: the cluster is {cluster.provider}"
    try:
        run([tools.require("kind").path, "export", "logs", str(dest), "--name", cluster.name], timeout=300)
    except Exception as exc:  # noqa: BLE001 - logs are evidence, not a verdict
        return f"kind export logs failed: {exc}"
    return f"kind logs: {dest}"
