"""Evidence for a failed e2e test: events, pod logs and describe output per namespace, kind logs.

Everything goes under the run's artifacts folder so GitLab keeps it; collection never raises
(a broken cluster is exactly when diagnostics matter), it records what it could not get.
"""

import re
from collections.abc import Iterable
from pathlib import Path

from verification.errors import CommandError
from verification.run import run


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120]


def collect(
    kubectl: Path | str,
    kubeconfig: Path | str,
    namespaces: Iterable[str],
    dest: Path,
    *,
    kind: Path | str | None = None,
    cluster_name: str | None = None,
) -> Path:
    """Write diagnostics of `namespaces` under dest; returns the folder written."""
    dest.mkdir(parents=True, exist_ok=True)
    base = [str(kubectl), "--kubeconfig", str(kubeconfig)]
    failures: list[str] = []

    def save(filename: str, cmd: list[str]) -> None:
        try:
            out = run([*base, *cmd], timeout=60).stdout
        except CommandError as exc:
            out = f"# could not collect: {exc}\n"
            failures.append(f"{filename}: {exc}")
        (dest / filename).write_text(out)

    save("nodes.txt", ["get", "nodes", "-o", "wide"])
    save("all-pods.txt", ["get", "pods", "-A", "-o", "wide"])
    for ns in namespaces:
        save(f"{ns}-events.txt", ["get", "events", "-n", ns, "--sort-by=.lastTimestamp"])
        save(f"{ns}-describe.txt", ["describe", "all,networkpolicies,pdb,servicemonitors", "-n", ns])
        try:
            pods = run([*base, "get", "pods", "-n", ns, "-o", "name"], timeout=60).stdout.split()
        except CommandError as exc:
            failures.append(f"{ns} pods: {exc}")
            pods = []
        for pod in pods:
            name = pod.split("/", 1)[-1]
            save(f"{ns}-{_safe(name)}.log", ["logs", "-n", ns, name, "--all-containers", "--prefix", "--tail=2000"])
    if kind and cluster_name:
        try:
            run([str(kind), "export", "logs", str(dest / "kind-logs"), "--name", cluster_name], timeout=300)
        except CommandError as exc:
            failures.append(f"kind export logs: {exc}")
    if failures:
        (dest / "collection-errors.txt").write_text("\n".join(failures) + "\n")
    return dest
