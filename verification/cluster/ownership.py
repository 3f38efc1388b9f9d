"""What the suite creates on a cluster it did not create, and only that, removed afterwards.

Every object the stack deploy applies (and every throw-away namespace of the tests) is labelled
`app.kubernetes.io/managed-by=platform-verify` and `platform-verify.io/run=<run id>`. Before
deploying, objects the deploy would take over that exist without our label are a refusal (their
owner is someone else: the suite would overwrite and later delete them). Teardown deletes the
labelled namespaces (and with them everything inside, helm releases and operator-made objects
included), then the labelled cluster-scoped objects, and waits until they are gone.
"""

import json
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from verification.cluster.cluster import Cluster
from verification.errors import UserError
from verification.wait import wait_for

MANAGED_BY = "app.kubernetes.io/managed-by"
OWNER = "platform-verify"
RUN = "platform-verify.io/run"
# On namespaces a test creates and deletes itself (throw-away, generated-case lanes): a killed run
# leaves them behind, and the next run removes them before it deploys.
SCRATCH = "platform-verify.io/scratch"
DELETE_SECONDS = 600  # namespace deletion waits for finalizers (pods' grace periods)


def new_run_id() -> str:
    return secrets.token_hex(4)


def labels(run_id: str) -> list[str]:
    """`kubectl label` arguments marking an object as this run's."""
    return [f"{MANAGED_BY}={OWNER}", f"{RUN}={run_id}"]


def selector(run_id: str) -> str:
    return f"{MANAGED_BY}={OWNER},{RUN}={run_id}"


def foreign(objects: Iterable[dict[str, Any]]) -> list[str]:
    """`kind/name` of existing objects that the suite did not create (no managed-by label of ours)."""
    found = []
    for obj in objects:
        meta = obj.get("metadata") or {}
        if (meta.get("labels") or {}).get(MANAGED_BY) != OWNER:
            where = f" in {meta['namespace']}" if meta.get("namespace") else ""
            found.append(f"{obj.get('kind')}/{meta.get('name')}{where}")
    return sorted(found)


def file_args(paths: Iterable[Path | str]) -> list[str]:
    return [arg for path in paths for arg in ("-f", str(path))]


def refuse_foreign(cluster: Cluster, paths: Iterable[Path | str]) -> None:
    """Refuse when any object in `paths` exists already and is not ours."""
    args = file_args(paths)
    out = cluster.kubectl("get", *args, "--ignore-not-found", "-o", "json", timeout=120).stdout
    items = (json.loads(out) if out.strip() else {}).get("items") or []
    if theirs := foreign(items):
        shown = ", ".join(theirs[:8]) + (f" and {len(theirs) - 8} more" if len(theirs) > 8 else "")
        raise UserError(f"the cluster already has objects the suite would overwrite and delete: {shown}")


def mark(cluster: Cluster, run_id: str, paths: Iterable[Path | str]) -> None:
    """Label the objects of `paths` (just applied) as this run's."""
    cluster.kubectl("label", "--overwrite", *file_args(paths), *labels(run_id), timeout=120)


def created(cluster: Cluster, run_id: str) -> list[str]:
    """`kind/name [namespace]` of every object labelled with this run (namespaces and cluster-scoped)."""
    scoped = cluster.kubectl("api-resources", "--namespaced=false", "--verbs=list,delete", "-o", "name", timeout=60)
    kinds = ",".join(["namespaces", *(k for k in scoped.stdout.split() if k != "namespaces")])
    out = cluster.kubectl("get", kinds, "-l", selector(run_id), "-o", "name", timeout=60).stdout
    return sorted(set(out.split()))


def record(path: Path, run_id: str, objects: list[str]) -> None:
    path.write_text(json.dumps({"run": run_id, "created": objects}, indent=1) + "\n")


def remove(cluster: Cluster, run_id: str) -> list[str]:
    """Delete this run's objects: namespaces first (their contents go with them), then the
    cluster-scoped ones (CRDs last: their custom resources in our namespaces are gone by then)."""
    ours = created(cluster, run_id)
    namespaces = [o for o in ours if o.startswith("namespace/")]
    rest = [o for o in ours if not o.startswith("namespace/")]
    crds = [o for o in rest if o.startswith("customresourcedefinition")]
    for batch in (namespaces, [o for o in rest if o not in crds], crds):
        if batch:
            cluster.kubectl("delete", *batch, "--ignore-not-found", "--wait=false", timeout=120)

    def remaining() -> list[str]:
        left = created(cluster, run_id)
        release(
            cluster,
            [o.split("/", 1)[1] for o in left if o.startswith("namespace/")],
            [c.split("/", 1)[1] for c in crds],
        )
        return left

    wait_for(
        remaining,
        until=lambda remaining: not remaining,
        describe=lambda remaining: ", ".join(remaining),
        timeout=DELETE_SECONDS,
        interval=3,
        what=f"the objects of run {run_id} deleted",
    )
    return ours


def held(namespace: dict[str, Any]) -> bool:
    """The namespace controller deleted the namespace's content and only finalizers keep it."""
    conditions = (namespace.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "NamespaceFinalizersRemaining" and c.get("status") == "True" for c in conditions)


def release(cluster: Cluster, namespaces: list[str], crds: Iterable[str] = ()) -> list[str]:
    """Remove the finalizers of the deleted objects left in this run's own namespaces once only
    finalizers keep them: the suite runs no controller for them (e.g. ArgoCD Applications carry
    resources-finalizer.argocd.argoproj.io and no ArgoCD runs in e2e), so nothing else ever would.
    Returns `kind/name in namespace` of each object released."""
    if not namespaces:
        return []
    out = cluster.kubectl("get", "namespaces", *namespaces, "--ignore-not-found", "-o", "json", timeout=60).stdout
    found = json.loads(out) if out.strip() else {}
    # kubectl prints one name asked as that object, several as a List
    listed = found.get("items") or [] if found.get("kind") == "List" else [found] if found else []
    stuck = [n["metadata"]["name"] for n in listed if held(n)]
    if not stuck:
        return []
    listable = cluster.kubectl("api-resources", "--namespaced=true", "--verbs=list,patch", "-o", "name", timeout=60)
    # A CRD being deleted is gone from discovery while its held objects still answer by name: each
    # of ours is asked on its own (kubectl prints nothing at all when one kind of a list is unknown).
    kinds = [",".join(listable.stdout.split()), *crds]
    released = []
    for namespace in stuck:
        listings = [cluster.kubectl("-n", namespace, "get", k, "-o", "json", check=False, timeout=120) for k in kinds]
        objects = [o for p in listings if p.stdout.strip() for o in json.loads(p.stdout).get("items") or []]
        for obj in objects:
            meta = obj.get("metadata") or {}
            if meta.get("deletionTimestamp") and meta.get("finalizers"):
                group = obj["apiVersion"].rpartition("/")[0]  # "" for the core group (apiVersion v1)
                ref = f"{obj['kind'].lower()}{'.' + group if group else ''}/{meta['name']}"
                cluster.kubectl("-n", namespace, "patch", ref, "--type=merge", "-p", '{"metadata":{"finalizers":null}}',
                                check=False, timeout=60)  # fmt: skip
                released.append(f"{obj['kind']}/{meta['name']} in {namespace} ({', '.join(meta['finalizers'])})")
    return released
