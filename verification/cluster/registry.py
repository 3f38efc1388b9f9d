"""The `registry` image source: the images built here, served by a local registry the kind nodes pull from.

`build` side-loads every image into every node (`kind load`); `pull` fetches them from public
registries. `registry` exercises the path a user with a registry takes, offline:

1. `crane registry serve` (go-containerregistry, pinned in platform/versions.yaml `tools:`) runs on
   the host, detached, one per cluster, blobs on disk under the cache. It listens on the gateway
   of kind's docker network (the host's address on that bridge): the node containers reach it
   there, where 127.0.0.1 would be the node itself. Manifests live in the process's memory, so
   every `up` pushes again (blobs already on disk are not uploaded twice).
2. Each image is saved (`docker save`) and pushed (`crane push`) under its own path without the
   registry host (`quay.io/prometheus/prometheus:v3.16.0` -> `<registry>/prometheus/prometheus:v3.16.0`);
   the digests crane reports are kept (`digests.json` beside the state) and returned.
3. Each node's containerd reads registry hosts from /etc/containerd/certs.d (CONTAINERD_PATCH, in
   every kind cluster's config; kind's base image writes config version 2); a hosts.toml per
   registry host named by the images makes the local registry that host's mirror over plain HTTP.
   containerd reads those files at every pull, so they are written after the nodes exist.

`stop()` (from `cluster down`) ends the registry process this module started, found by its pid
file and checked by its command line; nothing else is stopped.
"""

import json
import os
import signal
import socket
import subprocess
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verification import tools
from verification.cluster.progress import say, step
from verification.errors import CommandError, UserError, WaitTimeout
from verification.paths import cache_dir
from verification.run import run
from verification.wait import wait_for

CRANE = "crane"
NETWORK = "kind"  # the docker network kind puts every node on
CERTS_D = "/etc/containerd/certs.d"
# containerd config version 2 (kind's base image): registry hosts from files, read at each pull.
CONTAINERD_PATCH = f'[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "{CERTS_D}"\n'
START_TIMEOUT = 30


@dataclass(frozen=True)
class Registry:
    cluster: str
    address: str  # host:port on kind's docker network gateway
    pid: int

    @property
    def folder(self) -> Path:
        return state_dir(self.cluster)


def state_dir(cluster: str) -> Path:
    path = cache_dir() / "registry" / cluster
    path.mkdir(parents=True, exist_ok=True)
    return path


def split(ref: str) -> tuple[str, str, str]:
    """(registry host, repository path, tag) of a reference with an explicit host and tag."""
    name, _, tag = ref.rpartition(":")
    host, _, path = name.partition("/")
    registry_like = "." in host or ":" in host or host == "localhost"
    if not tag or "/" in tag or not registry_like or not path:
        raise UserError(f"image {ref!r}: expected HOST/PATH:TAG to mirror it (platform/versions.yaml images:)")
    return host, path, tag


def mirror_paths(refs: list[str]) -> dict[str, str]:
    """ref -> path:tag in the local registry; one line when two hosts would share a path."""
    seen: dict[str, str] = {}
    for ref in refs:
        _host, path, tag = split(ref)
        local = f"{path}:{tag}"
        if local in seen.values():
            other = next(r for r, p in seen.items() if p == local)
            raise UserError(f"{ref} and {other} would both be {local} in the local registry (mirrors drop the host)")
        seen[ref] = local
    return seen


def hosts_toml(upstream: str, address: str) -> str:
    """containerd's hosts file: pulls of `upstream` images go to the local registry over plain HTTP."""
    return f'server = "https://{upstream}"\n\n[host."http://{address}"]\n  capabilities = ["pull", "resolve"]\n'


def gateway(network: str = NETWORK) -> str:
    """The IPv4 gateway of the docker network: the host as the node containers see it."""
    proc = run(
        ["docker", "network", "inspect", network, "-f", "{{range .IPAM.Config}}{{.Gateway}} {{end}}"],
        check=False,
        timeout=60,
    )
    found = [ip for ip in proc.stdout.split() if "." in ip]
    if proc.returncode != 0 or not found:
        raise UserError(
            f"docker network {network!r} has no IPv4 gateway (is a kind cluster up?): {proc.stderr.strip()}"
        )
    return found[0]


def _ok(url: str, method: str = "GET", timeout: float = 2) -> bool:
    """The local registry answers 200 at `url`, asked directly (never through a proxy)."""
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with direct.open(urllib.request.Request(url, method=method), timeout=timeout) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def _answers(address: str) -> bool:
    return _ok(f"http://{address}/v2/")


def _ours(pid: int) -> bool:
    """The process is a `crane registry serve` (a pid file may outlive its process and its number)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(part.endswith(b"crane") for part in cmdline[:1]) and b"serve" in cmdline


def _state(cluster: str) -> dict[str, object]:
    path = state_dir(cluster) / "state.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def start(cluster: str) -> Registry:
    """The cluster's registry, answering: the running one if its process is ours, else a new one."""
    state = _state(cluster)
    pid, address = state.get("pid"), state.get("address")
    if isinstance(pid, int) and isinstance(address, str) and _ours(pid) and _answers(address):
        say(f"--- registry of {cluster}: running at {address} (pid {pid})")
        return Registry(cluster, address, pid)
    crane = tools.install(CRANE).path  # a pinned Go module build, cached (platform-verify tools install crane)
    host = gateway()
    port = state.get("port") if isinstance(state.get("port"), int) else _free_port(host)
    address = f"{host}:{port}"
    folder = state_dir(cluster)
    (folder / "blobs").mkdir(exist_ok=True)  # crane's --disk does not create it (uploads fail with ENOENT)
    log = (folder / "registry.log").open("a")
    # Detached: it serves the nodes for as long as the cluster lives, after this command returns.
    proc = subprocess.Popen(
        [str(crane), "registry", "serve", "--address", address, "--disk", str(folder / "blobs")],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    log.close()
    try:
        wait_for(
            lambda: proc.poll() is None and _answers(address),
            what=f"crane registry serve on {address}",
            timeout=START_TIMEOUT,
            interval=0.3,
            until=bool,
        )
    except WaitTimeout:
        if proc.poll() is None:
            proc.terminate()
        tail = (folder / "registry.log").read_text()[-400:]
        raise UserError(f"the local registry did not start on {address}: {tail.strip()}") from None
    (folder / "state.json").write_text(json.dumps({"pid": proc.pid, "address": address, "port": port}) + "\n")
    say(f"--- registry of {cluster}: started at {address} (pid {proc.pid}, log {folder / 'registry.log'})")
    return Registry(cluster, address, proc.pid)


def _served_before(registry: Registry) -> dict[str, dict[str, str]]:
    """ref -> {id: the local image's ID, digest} of what this registry process was given (pushed.json)."""
    try:
        record = json.loads((registry.folder / "pushed.json").read_text())
    except (OSError, ValueError):
        return {}
    images = record.get("images") if isinstance(record, dict) and record.get("pid") == registry.pid else None
    return images if isinstance(images, dict) else {}


def _serves(registry: Registry, local: str, digest: str) -> bool:
    """The registry answers for PATH@digest (its manifests live in its memory only)."""
    return _ok(f"http://{registry.address}/v2/{local.rpartition(':')[0]}/manifests/{digest}", "HEAD", 5)


def push(registry: Registry, refs: list[str]) -> dict[str, str]:
    """Push each local image; ref -> its digest (sha256:...), also written to digests.json. An
    image this registry process already serves for the same local image ID is not pushed again
    (a warm `up` saved and pushed all nine stack images: ~50 s of a 2-core machine)."""
    crane = tools.require(CRANE).path
    host = registry.address.rpartition(":")[0]
    no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY", ""), host]))
    env = {**os.environ, "NO_PROXY": no_proxy, "no_proxy": no_proxy}  # a proxy must not see local pushes
    digests: dict[str, str] = {}
    before, record = _served_before(registry), {}
    with (
        step(f"push {len(refs)} image(s) to the local registry {registry.address}"),
        tempfile.TemporaryDirectory(prefix="registry-push-") as tmp,
    ):
        for ref, local in mirror_paths(refs).items():
            image_id = run(["docker", "image", "inspect", ref, "-f", "{{.Id}}"], timeout=60).stdout.strip()
            kept = before.get(ref) or {}
            if kept.get("id") == image_id and _serves(registry, local, kept.get("digest", "")):
                digests[ref], record[ref] = kept["digest"], kept
                say(f"    {ref}: already served as {kept['digest']}")
                continue
            tarball = Path(tmp) / "image.tar"
            run(["docker", "save", "-o", tarball, ref], timeout=600)
            out = run(
                [crane, "push", "--insecure", tarball, f"{registry.address}/{local}"], env=env, timeout=600
            ).stdout
            digest = out.strip().rpartition("@")[2]
            if not digest.startswith("sha256:"):
                raise CommandError(["crane", "push", ref], 0, out, "crane push printed no digest")
            digests[ref], record[ref] = digest, {"id": image_id, "digest": digest}
            tarball.unlink()
            say(f"    {ref} -> {registry.address}/{local.rpartition(':')[0]}@{digest}")
    (registry.folder / "digests.json").write_text(json.dumps(digests, indent=1) + "\n")
    (registry.folder / "pushed.json").write_text(json.dumps({"pid": registry.pid, "images": record}, indent=1) + "\n")
    return digests


def configure_nodes(registry: Registry, nodes: list[str], refs: list[str]) -> list[str]:
    """Write a hosts.toml per registry host of `refs` into every node; check each node reaches
    the registry (bash's /dev/tcp, nothing to install). Returns the hosts mirrored."""
    upstreams = sorted({split(ref)[0] for ref in refs})
    host, _, port = registry.address.rpartition(":")
    for node in nodes:
        for upstream in upstreams:
            folder = f"{CERTS_D}/{upstream}"
            run(
                ["docker", "exec", "-i", node, "sh", "-c", f"mkdir -p {folder} && cat > {folder}/hosts.toml"],
                input=hosts_toml(upstream, registry.address),
                timeout=60,
            )
        probe = run(["docker", "exec", node, "bash", "-c", f"exec 3<>/dev/tcp/{host}/{port}"], check=False, timeout=30)
        if probe.returncode != 0:
            raise UserError(
                f"kind node {node} cannot reach the local registry at {registry.address} (the host's address on "
                f"docker network {NETWORK!r}): {probe.stderr.strip() or 'connection refused'}"
            )
    say(f"--- {len(nodes)} node(s) pull {', '.join(upstreams)} from {registry.address}")
    return upstreams


def stop(cluster: str) -> bool:
    """End the registry this module started for `cluster` (its pid file, checked); False if none ran."""
    state = _state(cluster)
    pid = state.get("pid")
    (state_dir(cluster) / "state.json").unlink(missing_ok=True)
    if not isinstance(pid, int) or not _ours(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    say(f"--- registry of {cluster} (pid {pid}) stopped")
    return True


def served(cluster: str) -> dict[str, str]:
    """ref -> digest of what the last `up` pushed to the cluster's registry (digests.json)."""
    data: dict[str, str] = json.loads((state_dir(cluster) / "digests.json").read_text())
    return data


def pulled(pods: list[dict[str, Any]], digests: dict[str, str]) -> tuple[list[str], list[str]]:
    """(containers running a digest the local registry served, containers running one of its
    images with another digest): a pushed image the node got elsewhere (side-loaded) is the second."""
    served = {digest for digest in digests.values()}
    names = {split(ref)[1] for ref in digests}
    ours, other = [], []
    for pod in pods:
        meta, status = pod.get("metadata") or {}, pod.get("status") or {}
        for container in status.get("containerStatuses") or []:
            # A container started by digest reports its image as the image's own ID (sha256:...):
            # the repository is in imageID (HOST/PATH@sha256:...).
            image, image_id = container.get("image", ""), container.get("imageID", "")
            named = image_id if "@" in image_id else image
            where = f"{meta.get('namespace')}/{meta.get('name')} {container.get('name')} ({named})"
            if image_id.rpartition("@")[2] in served:
                ours.append(where)
            elif any(f"/{name}{sep}" in f"{image} {image_id}" for name in names for sep in ":@"):
                other.append(f"{where}: {image_id or 'no image ID yet'}")
    return ours, other
