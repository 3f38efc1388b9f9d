"""`--cluster existing` proved live on a cluster the suite did not create.

Plays "another team": with the pinned kind binary it creates a 2-node cluster `other-team`
(1 control-plane + 1 worker) from the node image this machine built, with a plain kind config
(the settings this machine needs: no default CNI, iptables kube-proxy, the node image's etcd and
CoreDNS tags), applies the CNI manifest as an admin would (`kubectl apply -f`), side-loads the
stack images with `kind load docker-image`, writes its kubeconfig to a file of its own and puts
objects of its own in the cluster (namespace their-app with a ConfigMap and a Deployment, a
ClusterRole, two ServiceAccounts with narrow permissions).

Then, as the suite's user: a census of the cluster, the refusals (missing context, unreachable
server, a ServiceAccount token lacking permissions: each must be exit 2 and one line), the e2e
subset with `--cluster existing --kubeconfig F --context kind-other-team`, and the census after,
which must equal the one before (with the other team's objects at the same uid and
resourceVersion). Last, the cluster is deleted (unless --keep).

    flock /work/logs/cluster.lock python benchmarks/existing_cluster_proof.py all --out DIR

Subcommands: up (create + their objects), prove (census, refusals, e2e, census), down, all.
Everything measured goes to DIR/report.json; each command's output to DIR/<step>.log.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from verification import tools  # noqa: E402
from verification.cluster import node_image, stack_images  # noqa: E402
from verification.wait import wait_for  # noqa: E402

NAME = "other-team"
CONTEXT = f"kind-{NAME}"
NODE_IMAGE_REPO = "platform-verify/kind-node"
CNI_MANIFEST = ROOT / "platform" / "kind" / "kube-router.yaml"
E2E = [
    "verification/e2e/test_rbac_live.py",
    "verification/e2e/test_admission_live.py",
    "verification/e2e/test_netpol_live.py",
    "verification/e2e/test_cluster_smoke.py",
]
NETPOL_CASES = 6
E2E_SECONDS = 1200  # the lock is held 30 minutes at most
THEIRS = [("namespace", "", "their-app"), ("configmap", "their-app", "settings"),
          ("deployment", "their-app", "web"), ("clusterrole", "", "their-app-reader"),
          ("serviceaccount", "their-ci", "reader"), ("serviceaccount", "their-ci", "ns-admin")]  # fmt: skip


def kind_config() -> str:
    """What kind needs on this machine, as another team would write it (no Python of ours applies
    it): kube-router instead of kindnetd (platform/kind/README.md), iptables kube-proxy (no IPVS
    here), the API server on loopback, and the etcd/CoreDNS tags the offline node image carries."""
    etcd = node_image.image_tag_of(node_image.pinned_image("etcd"))
    dns = node_image.image_tag_of(node_image.pinned_image("coredns"))
    return f"""\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  apiServerAddress: 127.0.0.1
  disableDefaultCNI: true
  kubeProxyMode: iptables
nodes:
  - role: control-plane
  - role: worker
kubeadmConfigPatches:
  - |
    kind: ClusterConfiguration
    etcd:
      local:
        imageTag: {etcd}
    dns:
      imageTag: {dns}
"""


class Proof:
    def __init__(self, out: Path, tests: list[str]) -> None:
        self.out, self.tests = out, tests
        out.mkdir(parents=True, exist_ok=True)
        self.kubeconfig = out / "other-team.kubeconfig"
        self.kind = str(tools.require("kind").path)
        self.kubectl_bin = str(tools.require("kubectl").path)
        path = out / "report.json"
        self.report: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}

    def save(self) -> None:
        (self.out / "report.json").write_text(json.dumps(self.report, indent=1) + "\n")

    def sh(self, step: str, cmd: list[str], *, timeout: float, check: bool = True, input: str | None = None,
           cwd: Path | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
        """Run, append the command and its output to <step>.log, raise on failure when `check`."""
        begun = time.monotonic()
        try:
            proc = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout, cwd=cwd)
        except subprocess.TimeoutExpired as exc:  # keep what it printed: the log says where it hung
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
            proc = subprocess.CompletedProcess(cmd, 124, out + f"\n# timed out after {timeout:.0f}s\n", "")
        seconds = time.monotonic() - begun
        with (self.out / f"{step}.log").open("a") as log:
            log.write(f"$ {' '.join(cmd)}\n# exit {proc.returncode} after {seconds:.1f}s\n{proc.stdout}{proc.stderr}\n")
        if check and proc.returncode != 0:
            raise SystemExit(f"{step}: {' '.join(cmd[:4])}... exited {proc.returncode}: {proc.stderr.strip()[-400:]}")
        return proc

    def kubectl(self, step: str, *args: str, timeout: float = 120, **kw: Any) -> subprocess.CompletedProcess[str]:
        return self.sh(step, [self.kubectl_bin, "--kubeconfig", str(self.kubeconfig), "--context", CONTEXT, *args],
                       timeout=timeout, **kw)  # fmt: skip

    def timed(self, name: str, begun: float) -> None:
        self.report.setdefault("seconds", {})[name] = round(time.monotonic() - begun, 1)
        self.save()
        print(f"--- {name}: {self.report['seconds'][name]}s", flush=True)

    # ------------------------------------------------------------------ the other team

    def node_image(self) -> str:
        out = self.sh("up", ["docker", "images", NODE_IMAGE_REPO, "--format", "{{.Repository}}:{{.Tag}}"], timeout=60)
        found = [line for line in out.stdout.split() if "<none>" not in line]
        if not found:
            raise SystemExit(f"no {NODE_IMAGE_REPO} image in the local engine: `platform-verify cluster up` builds it")
        return found[0]  # newest first

    def up(self) -> None:
        begun = time.monotonic()
        clusters = self.sh("up", [self.kind, "get", "clusters"], timeout=60).stdout.split()
        image = self.node_image()
        self.report["node_image"] = image
        if NAME not in clusters:
            config = self.out / "kind-other-team.yaml"
            config.write_text(kind_config())
            self.sh("up", [self.kind, "create", "cluster", "--name", NAME, "--image", image, "--config", str(config),
                           "--kubeconfig", str(self.kubeconfig), "--wait", "0s"], timeout=900)  # fmt: skip
        else:
            self.sh("up", [self.kind, "export", "kubeconfig", "--name", NAME, "--kubeconfig", str(self.kubeconfig)],
                    timeout=60)  # fmt: skip
        self.timed("kind create cluster (2 nodes)", begun)

        begun = time.monotonic()
        router = node_image.pinned_image("kube-router")
        self.sh("up", [self.kind, "load", "docker-image", "--name", NAME, router], timeout=600)
        # The admin's `kubectl apply -f` of the manifest, its image placeholder filled in.
        self.kubectl("up", "apply", "-f", "-", input=CNI_MANIFEST.read_text().replace("{image}", router))
        wait_for(lambda: self.kubectl("up", "get", "nodes", "--no-headers", check=False).stdout,
                 what="both nodes Ready", timeout=300, interval=3,
                 until=lambda out: out.count(" Ready ") == 2)  # fmt: skip
        self.kubectl("up", "-n", "kube-system", "rollout", "status", "daemonset/kube-router", "--timeout=300s",
                     timeout=320)  # fmt: skip
        self.kubectl("up", "-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=300s",
                     timeout=320)  # fmt: skip
        self.timed("CNI applied, nodes and CoreDNS ready", begun)

        begun = time.monotonic()
        from verification.cluster import smoke_image

        refs = [*stack_images.refs(), smoke_image.ensure_smoke_image()]
        self.report["loaded_images"] = refs
        self.sh("up", [self.kind, "load", "docker-image", "--name", NAME, *refs], timeout=1500)
        self.timed(f"kind load docker-image ({len(refs)} images)", begun)

        begun = time.monotonic()
        self.their_objects()
        self.timed("their objects", begun)

    def their_objects(self) -> None:
        """What the other team runs, created before the suite arrives."""
        objects = [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "their-app", "labels": {"team": "other"}}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "their-app"},
             "data": {"greeting": "ours, not yours"}},
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "their-app"},
             "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                      "template": {"metadata": {"labels": {"app": "web"}},
                                   "spec": {"containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10",
                                                            "imagePullPolicy": "Never"}]}}}},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
             "metadata": {"name": "their-app-reader"},
             "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]},
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "their-ci"}},
            # A CI identity with a narrow Role, and one that is admin of every namespace (ClusterRole
            # admin, cluster-wide) but holds no cluster-scoped rights: both must be refused.
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "reader", "namespace": "their-ci"}},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
             "metadata": {"name": "reader", "namespace": "their-ci"},
             "rules": [{"apiGroups": [""], "resources": ["pods", "configmaps"], "verbs": ["get", "list", "watch"]}]},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
             "metadata": {"name": "reader", "namespace": "their-ci"},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
             "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": "their-ci"}]},
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "ns-admin", "namespace": "their-ci"}},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
             "metadata": {"name": "their-ci-ns-admin"},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
             "subjects": [{"kind": "ServiceAccount", "name": "ns-admin", "namespace": "their-ci"}]},
        ]  # fmt: skip
        self.kubectl(
            "their", "apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
        )
        self.kubectl("their", "-n", "their-app", "rollout", "status", "deployment/web", "--timeout=180s", timeout=200)

    def down(self) -> None:
        begun = time.monotonic()
        self.sh("down", [self.kind, "delete", "cluster", "--name", NAME], timeout=600)
        self.timed("kind delete cluster", begun)

    # ------------------------------------------------------------------ the suite's side

    def identities(self) -> dict[str, Any]:
        """uid, resourceVersion (and generation) of each object of theirs."""
        found = {}
        for kind, ns, name in THEIRS:
            where = ["-n", ns] if ns else []
            obj = json.loads(self.kubectl("their", *where, "get", kind, name, "-o", "json").stdout)
            meta = obj["metadata"]
            found[f"{kind}/{ns + '/' if ns else ''}{name}"] = {
                "uid": meta["uid"], "resourceVersion": meta["resourceVersion"], "generation": meta.get("generation"),
                "labels": meta.get("labels") or {},
            }  # fmt: skip
        pods = json.loads(self.kubectl("their", "-n", "their-app", "get", "pods", "-o", "json").stdout)["items"]
        found["pods in their-app"] = sorted(p["metadata"]["uid"] for p in pods)
        return found

    def census(self, name: str, compare: Path | None = None) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "verification", "cluster", "census", "--kubeconfig", str(self.kubeconfig),
               "--context", CONTEXT, "--out", str(self.out / f"census-{name}.json")]  # fmt: skip
        if compare:
            cmd += ["--compare", str(compare)]
        # --compare exits 1 when a count changed: the caller reads what changed
        return self.sh(f"census-{name}", cmd, timeout=300, check=compare is None, cwd=ROOT)

    def refusal(self, name: str, kubeconfig: Path, context: str) -> None:
        """The CLI preflight and the e2e entry on the same input: exit codes and their lines."""
        seen: dict[str, Any] = {}
        preflight = [sys.executable, "-m", "verification", "cluster", "preflight", "--kubeconfig", str(kubeconfig),
                     "--context", context]  # fmt: skip
        cli = self.sh(f"refusal-{name}", preflight, timeout=180, check=False, cwd=ROOT)
        seen["cli"] = {"exit": cli.returncode, "stdout": cli.stdout.splitlines(), "stderr": cli.stderr.splitlines()}
        e2e = self.sh(f"refusal-{name}", [sys.executable, "-m", "pytest", "verification/e2e/test_rbac_live.py",
                                           "-q", "-p", "no:cacheprovider", "--cluster", "existing", "--kubeconfig",
                                           str(kubeconfig), "--context", context,
                                           f"--artifacts={self.out / ('refusal-' + name)}"],
                      timeout=300, check=False, cwd=ROOT)  # fmt: skip
        lines = [line for line in e2e.stdout.splitlines() + e2e.stderr.splitlines() if "refused" in line]
        seen["e2e"] = {"exit": e2e.returncode, "refusal_lines": lines, "passed_in_output": " passed" in e2e.stdout}
        self.report.setdefault("refusals", {})[name] = seen
        self.save()
        print(f"--- refusal {name}: cli exit {cli.returncode}, e2e exit {e2e.returncode}\n    "
              + "\n    ".join(seen["cli"]["stderr"] + lines), flush=True)  # fmt: skip

    def token_kubeconfig(self, account: str) -> Path:
        token = self.kubectl("refusals", "-n", "their-ci", "create", "token", account, "--duration=1h").stdout.strip()
        view = json.loads(self.kubectl("refusals", "config", "view", "--minify", "--flatten", "--raw", "-o",
                                       "json").stdout)  # fmt: skip
        cluster = view["clusters"][0]
        user = f"their-ci-{account}"
        config = {"apiVersion": "v1", "kind": "Config", "clusters": [cluster],
                  "users": [{"name": user, "user": {"token": token}}],
                  "contexts": [{"name": user, "context": {"cluster": cluster["name"], "user": user}}],
                  "current-context": user}  # fmt: skip
        path = self.out / f"{user}.kubeconfig"
        path.write_text(json.dumps(config))
        path.chmod(0o600)
        return path

    def refusals(self) -> None:
        begun = time.monotonic()
        self.refusal("missing-context", self.kubeconfig, "kind-no-such-team")
        dead = json.loads(self.kubectl("refusals", "config", "view", "--minify", "--flatten", "--raw", "-o",
                                       "json").stdout)  # fmt: skip
        dead["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"  # a closed port on loopback
        closed = self.out / "closed-port.kubeconfig"
        closed.write_text(json.dumps(dead))
        closed.chmod(0o600)
        self.refusal("unreachable", closed, CONTEXT)
        for account in ("reader", "ns-admin"):
            self.refusal(f"lacking-{account}", self.token_kubeconfig(account), f"their-ci-{account}")
        self.timed("refusals", begun)

    def e2e(self) -> None:
        begun = time.monotonic()
        artifacts = self.out / "e2e-artifacts"
        cmd = [sys.executable, "-m", "pytest", *self.tests, "--cluster", "existing",
               "--kubeconfig", str(self.kubeconfig), "--context", CONTEXT, "-q", "-p", "no:cacheprovider",
               "--netpol-cases", str(NETPOL_CASES), f"--artifacts={artifacts}",
               f"--junitxml={artifacts / 'junit.xml'}", "--durations=0", "-rA"]  # fmt: skip
        proc = self.sh("e2e", cmd, timeout=E2E_SECONDS, check=False, cwd=ROOT)
        self.report["e2e"] = {"exit": proc.returncode, "summary": proc.stdout.strip().splitlines()[-1:]}
        junit = artifacts / "junit.xml"
        if junit.is_file():  # each test's outcome and seconds (fixture setup included)
            import xml.etree.ElementTree as ET

            tests = {}
            for case in ET.parse(junit).getroot().iter("testcase"):
                outcome = next((c.tag for c in case if c.tag in ("failure", "error", "skipped")), "passed")
                tests[f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"] = (
                    f"{outcome} {float(case.get('time') or 0):.1f}s"
                )
            self.report["e2e"]["tests"] = tests
        self.timed("e2e (--cluster existing)", begun)

    def prove(self) -> None:
        begun = time.monotonic()
        before_ids = self.identities()
        self.census("before")
        before = json.loads((self.out / "census-before.json").read_text())
        self.report["census_before"] = {"objects": sum(before.values()), "pairs": len(before)}
        self.timed("census before", begun)

        self.refusals()
        self.e2e()

        # The census after, until it equals the one before or 180 s (cluster-scoped objects the
        # API server makes for CRDs, e.g. APIServices, go a moment after the CRDs).
        begun = time.monotonic()
        tries: list[list[str]] = []

        def after() -> list[str]:
            proc = self.census("after", compare=self.out / "census-before.json")
            changed = (
                proc.stdout.split("changed since", 1)[1].splitlines()[1:] if "changed since" in proc.stdout else []
            )
            tries.append(changed)
            return changed

        try:
            wait_for(after, what="the census to equal the one before", timeout=180, interval=10,
                     until=lambda changed: not changed, describe=lambda changed: "; ".join(changed))  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - reported, not raised: the figures matter
            self.report["census_error"] = str(exc)
        final = json.loads((self.out / "census-after.json").read_text())
        self.report["census_after"] = {"objects": sum(final.values()), "pairs": len(final),
                                       "first_diff": tries[0] if tries else None, "tries": len(tries),
                                       "final_diff": tries[-1] if tries else None}  # fmt: skip
        after_ids = self.identities()
        self.report["theirs_before"] = before_ids
        self.report["theirs_unchanged"] = before_ids == after_ids
        if before_ids != after_ids:
            self.report["theirs_after"] = after_ids
        self.timed("census after", begun)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["up", "prove", "down", "all"])
    parser.add_argument("--out", type=Path, required=True, help="folder for report.json, logs and artifacts")
    parser.add_argument("--keep", action="store_true", help="all: keep the cluster afterwards")
    parser.add_argument("--tests", nargs="+", default=E2E, help="e2e modules to run (default: %(default)s)")
    args = parser.parse_args()
    proof = Proof(args.out, args.tests)
    try:
        if args.action in ("up", "all"):
            proof.up()
        if args.action in ("prove", "all"):
            proof.prove()
    finally:
        if args.action == "down" or (args.action == "all" and not args.keep):
            proof.down()
        proof.save()
    print(json.dumps({k: v for k, v in proof.report.items() if k not in ("theirs_before", "loaded_images")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
