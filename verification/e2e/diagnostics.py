"""Evidence for a failed e2e test, gathered by the failure hook of verification/e2e/conftest.py.

Into <artifacts>/<test id>/: nodes and pods of the cluster; events, `describe` and pod logs of the
namespaces the test touched (recorded by fixtures with `touch`, else every platform namespace);
the request logs and timelines of the load it ran. `kind export logs` runs once per session.
Collection never raises and is bounded in time (a broken cluster is exactly when diagnostics
matter, and it must neither hang the run nor hide the test's own failure): what it could not get
is written to collection-errors.txt.
"""

import hashlib
import os
import re
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import CompletedProcess
from typing import Protocol

import pytest

from verification import tools
from verification.run import run

PER_TEST = 120.0  # seconds of collection for one failed test
PER_SESSION = 900.0  # for the whole run: a cluster that fails every test must not add hours
COMMAND_TIMEOUT = 60.0
LOAD_FILES = ("requests.jsonl", "summary.json", "timeline.png")  # what verification.load writes


class Kubectl(Protocol):
    """What collection needs of the cluster (verification.cluster.cluster.Cluster)."""

    name: str
    provider: str

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
    ) -> CompletedProcess[str]: ...


@dataclass
class Failures:
    """The run's failed e2e tests and where their evidence went."""

    root: Path  # the artifacts folder
    folders: dict[str, Path] = field(default_factory=dict)  # test id -> its diagnostics folder
    errors: dict[int, tuple[BaseException, Path]] = field(default_factory=dict)  # one error, one collection
    spent: float = 0.0  # seconds of collection so far
    kind_logs: str = ""  # what `kind export logs` gave, once per session


CLUSTER = pytest.StashKey[Kubectl]()  # config: set by the cluster fixture once it is up
FAILURES = pytest.StashKey[Failures]()  # config
TOUCHED = pytest.StashKey[list[str]]()  # any node: namespaces its tests work in
STARTED = pytest.StashKey[float]()  # item: epoch its setup began (load files newer than this are its own)


def touch(request: pytest.FixtureRequest, *namespaces: str) -> None:
    """Record namespaces the requesting test (or module, for a module fixture) works in."""
    request.node.stash.setdefault(TOUCHED, []).extend(namespaces)


def touched(item: pytest.Item, fallback: Iterable[str]) -> list[str]:
    """Namespaces recorded along the item's chain (session, module, test), else `fallback`."""
    found = [ns for node in item.listchain() for ns in node.stash.get(TOUCHED, [])]
    return list(dict.fromkeys(found)) or list(fallback)


def folder_name(nodeid: str) -> str:
    """`test_x.py::test_y[a/b]` -> `test_x.test_y_a_b_`: one path component, at most 120 characters."""
    path, _, name = nodeid.partition("::")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{Path(path).stem}.{name}")
    if len(safe) <= 120:
        return safe
    return f"{safe[:111]}-{hashlib.sha1(nodeid.encode()).hexdigest()[:8]}"


def collect(cluster: Kubectl, namespaces: Iterable[str], dest: Path, seconds: float) -> list[str]:
    """Nodes, pods, and per namespace events, describe and pod logs under `dest`; what failed."""
    dest.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + seconds
    failures: list[str] = []

    def kubectl(*args: str) -> str | None:
        remaining = deadline - time.monotonic()
        if remaining <= 1:
            failures.append(f"kubectl {' '.join(args)}: not run, the {seconds:.0f}s for this test are spent")
            return None
        try:
            proc = cluster.kubectl(*args, check=False, timeout=min(COMMAND_TIMEOUT, remaining))
        except Exception as exc:  # noqa: BLE001 - a timeout or a missing kubectl is recorded, never raised
            failures.append(f"kubectl {' '.join(args)}: {exc}")
            return None
        if proc.returncode != 0:
            failures.append(f"kubectl {' '.join(args)}: exit {proc.returncode}: {proc.stderr.strip()[-300:]}")
        return proc.stdout

    def save(filename: str, *args: str) -> None:
        out = kubectl(*args)
        if out is not None:
            (dest / filename).write_text(out)

    save("nodes.txt", "get", "nodes", "-o", "wide")
    save("all-pods.txt", "get", "pods", "-A", "-o", "wide")
    for ns in namespaces:
        save(f"{ns}-events.txt", "get", "events", "-n", ns, "--sort-by=.lastTimestamp")
        save(f"{ns}-describe.txt", "describe", "all,networkpolicies,pdb,servicemonitors", "-n", ns)
        for pod in (kubectl("get", "pods", "-n", ns, "-o", "name") or "").split():
            name = pod.split("/", 1)[-1]
            save(f"{ns}-{name}.log", "logs", "-n", ns, name, "--all-containers", "--prefix", "--tail=2000")
    return failures


def load_files(root: Path, since: float, dest: Path) -> list[Path]:
    """Link the request logs, summaries and timelines written under `root` since `since` into dest/load."""
    linked = []
    for name in LOAD_FILES:
        for found in root.rglob(name):
            if found.stat().st_mtime < since or dest in found.parents:
                continue
            target = dest / "load" / "_".join(found.relative_to(root).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(found, target)  # no second copy of a large request log
            except OSError:
                shutil.copy2(found, target)
            linked.append(target)
    return linked


def on_failure(item: pytest.Item, error: BaseException | None, fallback: Iterable[str]) -> Path:
    """Collect the evidence of `item`'s failure; returns its folder. Raises nothing."""
    config = item.config
    state = config.stash.setdefault(FAILURES, Failures(Path(config.getoption("--artifacts"))))
    if error is not None and id(error) in state.errors:
        # The same error object again: a session or module fixture failed once and fails every
        # test that needs it. Its evidence was collected for the first of them.
        state.folders[item.nodeid] = state.errors[id(error)][1]
        return state.folders[item.nodeid]
    dest = state.root / folder_name(item.nodeid)
    state.folders[item.nodeid] = dest
    if error is not None:
        state.errors[id(error)] = (error, dest)
    begun = time.monotonic()
    problems: list[str] = []
    try:
        dest.mkdir(parents=True, exist_ok=True)
        load_files(state.root, item.stash.get(STARTED, time.time()), dest)
        cluster = config.stash.get(CLUSTER, None)
        if cluster is None:
            problems.append("no cluster: the cluster fixture did not come up, nothing to ask")
        elif state.spent >= PER_SESSION:
            problems.append(f"cluster not asked: the run's {PER_SESSION:.0f}s for diagnostics are spent")
        else:
            problems += collect(cluster, touched(item, fallback), dest, min(PER_TEST, PER_SESSION - state.spent))
    except Exception as exc:  # noqa: BLE001 - evidence is best effort, the test's own failure stands
        problems.append(f"collection stopped: {type(exc).__name__}: {exc}")
    state.spent += time.monotonic() - begun
    if problems:
        try:
            (dest / "collection-errors.txt").write_text("\n".join(problems) + "\n")
        except OSError:
            pass
    return dest


def kind_logs(cluster: Kubectl, dest: Path) -> str:
    """`kind export logs` of a kind cluster into dest (node journal, containerd, kubelet); a note."""
    if cluster.provider != "kind":
        return f"no kind logs: the cluster is {cluster.provider}"
    try:
        run([tools.require("kind").path, "export", "logs", str(dest), "--name", cluster.name], timeout=300)
    except Exception as exc:  # noqa: BLE001 - recorded: logs are evidence, not a verdict
        return f"kind export logs failed: {exc}"
    return f"kind logs: {dest}"
