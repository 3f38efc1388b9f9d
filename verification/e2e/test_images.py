"""Hardening of every image the `build` source makes (run by `nox -s e2e`, after `nox -s images`).

Through testinfra's docker backend, in a running container of each image: the process user is
UID 10001, PID 1 is an init (tini), no compiler or package manager is left, and nothing outside
/tmp (and declared data volumes) is writable by that user. Separately, each image does its job with a read-only root
filesystem and only /tmp writable (as Kubernetes runs them: readOnlyRootFilesystem + emptyDir).
Then the images together on a private Docker network: an alert from Prometheus reaches the
alert-receiver through Alertmanager, and the NetworkPolicy probe connects between containers.
Missing Docker or a missing image fails with the command that fixes it; nothing is skipped.
"""

import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import testinfra

from verification import catalog
from verification.cluster import stack_images
from verification.e2e import diagnostics
from verification.run import run
from verification.wait import wait_for

UID = 10001
INITS = {"tini", "tini-static", "dumb-init", "catatonit"}
FORBIDDEN = ["apt", "apt-get", "dpkg", "apk", "yum", "dnf", "rpm", "pip", "pip3", "npm", "npx", "yarn", "gcc", "cc"]
FORBIDDEN += ["c++", "g++", "clang", "go", "make", "ld", "as"]


@dataclass(frozen=True)
class Smoke:
    """How an image shows it works: an HTTP answer, a command inside it, or a one-shot run."""

    args: tuple[str, ...] = ()  # appended to the image's entrypoint (replace CMD)
    port: int | None = None  # HTTP port to ask from the host (published on 127.0.0.1)
    path: str = "/"
    exec_check: tuple[str, ...] = ()  # command run inside the service container
    oneshot: tuple[str, ...] = ()  # for programs that need a cluster: this must exit 0
    env: dict[str, str] = field(default_factory=dict)


APP_ENV = {"APP_VERSION": "1.0.0", "APP_COLOR": "blue"}
SMOKE: dict[str, Smoke] = {
    "prometheus": Smoke(
        args=("--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/tmp/data"),
        port=9090,
        path="/-/ready",
    ),
    "alertmanager": Smoke(
        args=("--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/tmp/data"),
        port=9093,
        path="/-/ready",
    ),
    "alert-receiver": Smoke(port=8080, path="/healthz"),
    "netpol-probe": Smoke(
        exec_check=("/bin/netpol-probe", "connect", "--timeout", "2s", "127.0.0.1:8080", "udp://127.0.0.1:8080")
    ),
    "prometheus-operator": Smoke(oneshot=("--version",)),
    "prometheus-config-reloader": Smoke(oneshot=("--version",)),
    "kube-state-metrics": Smoke(oneshot=("--help",)),  # its version is a subcommand, after the port flags
    **{app: Smoke(port=8080, path="/healthz", env=APP_ENV) for app in catalog.current().names()},  # the contract
}
IMAGES = [img.name for img in stack_images.all_images()]
# The program each image carries, asked for its version: it must be the pinned one.
VERSION_COMMANDS: dict[str, tuple[str, ...]] = {
    "prometheus": ("/bin/prometheus", "--version"),
    "alertmanager": ("/bin/alertmanager", "--version"),
    "prometheus-operator": ("/bin/operator", "--version"),
    "prometheus-config-reloader": ("/bin/prometheus-config-reloader", "--version"),
    "kube-state-metrics": ("/kube-state-metrics", "version"),
    "netpol-probe": ("/bin/netpol-probe", "version"),
    "alert-receiver": ("/bin/alert-receiver", "--version"),
}


def _docker_ready() -> None:
    if shutil.which("docker") is None:
        pytest.fail("docker CLI missing: run `nox -s images` (it installs and starts the engine)")
    proc = run(["docker", "info", "--format", "{{.ServerVersion}}"], check=False, timeout=60)
    if proc.returncode != 0:
        pytest.fail(f"no Docker engine answers ({proc.stderr.strip()}); run `nox -s images` first")


def _image_config(ref: str) -> dict[str, Any]:
    proc = run(["docker", "image", "inspect", "--format", "{{json .Config}}", ref], check=False, timeout=60)
    if proc.returncode != 0:
        pytest.fail(f"image {ref} is not built here; run `nox -s images` (or `platform-verify images`)")
    config: dict[str, Any] = json.loads(proc.stdout)
    return config


def _start(ref: str, *cmd: str, read_only: bool = False, smoke: Smoke | None = None, entrypoint: str = "") -> str:
    name = f"pv-image-test-{uuid.uuid4().hex[:10]}"
    args = ["docker", "run", "-d", "--name", name, "--tmpfs", "/tmp:rw,mode=1777"]
    if read_only:
        args.append("--read-only")
    if smoke and smoke.port:
        args += ["-p", f"127.0.0.1::{smoke.port}"]
    for key, value in (smoke.env if smoke else {}).items():
        args += ["-e", f"{key}={value}"]
    if entrypoint:
        args += ["--entrypoint", entrypoint]
    run([*args, ref, *cmd], timeout=120)
    return name


def _remove(name: str) -> None:
    run(["docker", "rm", "-f", "-v", name], check=False, timeout=60)


@pytest.fixture
def started(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Containers the test starts: removed after its report, so a failure's diagnostics keep their logs."""
    names = diagnostics.containers(request)
    yield names
    for name in names:
        _remove(name)


def _http_ready(name: str, smoke: Smoke) -> int:
    port = run(["docker", "port", name, f"{smoke.port}/tcp"], timeout=30).stdout.split(":")[-1].strip()
    return httpx.get(f"http://127.0.0.1:{port}{smoke.path}", timeout=2).status_code


@pytest.fixture(scope="module", params=IMAGES)
def image(request: pytest.FixtureRequest) -> tuple[str, str, dict[str, Any]]:
    _docker_ready()
    name = request.param
    ref = stack_images._by_name(name).ref
    return name, ref, _image_config(ref)


@pytest.fixture(scope="module")
def container(image: tuple[str, str, dict[str, Any]], request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """A running container of the image, started the way Kubernetes would (entrypoint kept)."""
    name, ref, _ = image
    smoke = SMOKE.get(name, Smoke())
    if smoke.oneshot:
        # Needs a cluster to keep running: keep the init, give it something that waits.
        cid = _start(ref, "--", "/bin/sleep", "600", entrypoint="/sbin/tini")
    else:
        cid = _start(ref, *smoke.args, smoke=smoke)
    running = diagnostics.containers(request)  # the module's: a failing test of it gets the log
    running.append(cid)
    try:
        wait_for(
            lambda: run(["docker", "inspect", "--format", "{{.State.Running}}", cid], timeout=30).stdout.strip(),
            what=f"container of {ref} running",
            timeout=30,
            until=lambda state: state == "true",
        )
        yield cid, ref
    finally:
        running.remove(cid)  # the next image's tests must not ask for a removed container's log
        _remove(cid)


def test_runs_as_uid_10001(image: tuple[str, str, dict[str, Any]], container: tuple[str, str]) -> None:
    _, ref, config = image
    assert config.get("User", "").split(":")[0] in {str(UID), "app"}, f"{ref}: USER is {config.get('User')!r}"
    host = testinfra.get_host(f"docker://{container[0]}")
    assert host.check_output("id -u") == str(UID), f"{ref}: processes do not run as {UID}"


def test_init_is_pid_1(image: tuple[str, str, dict[str, Any]], container: tuple[str, str]) -> None:
    _, ref, config = image
    entrypoint = config.get("Entrypoint") or []
    assert entrypoint and entrypoint[0].rsplit("/", 1)[-1] in INITS, f"{ref}: entrypoint {entrypoint} has no init"
    host = testinfra.get_host(f"docker://{container[0]}")
    pid1 = host.check_output("cat /proc/1/comm")
    assert pid1 in INITS, f"{ref}: PID 1 is {pid1!r}, not an init"


def test_no_compilers_or_package_managers(container: tuple[str, str]) -> None:
    host = testinfra.get_host(f"docker://{container[0]}")
    found = [tool for tool in FORBIDDEN if host.run(f"command -v {tool}").rc == 0]
    assert not found, f"{container[1]}: build tools or package managers left in the image: {found}"


def test_only_tmp_and_declared_volumes_are_writable(
    image: tuple[str, str, dict[str, Any]], container: tuple[str, str]
) -> None:
    # Declared VOLUMEs (Prometheus' /prometheus, Alertmanager's /alertmanager, as upstream) are
    # mount points for data: Kubernetes mounts an emptyDir there, Docker a volume.
    allowed = ["/tmp", *sorted(image[2].get("Volumes") or {})]
    patterns = " ".join(f"{path}|{path}/*" for path in allowed).replace(" ", "|")
    host = testinfra.get_host(f"docker://{container[0]}")
    script = (
        "find / -xdev 2>/dev/null | while read -r p; do "
        f'[ -w "$p" ] && [ ! -L "$p" ] && case "$p" in {patterns}) ;; *) echo "$p";; esac; done; true'
    )
    writable = host.check_output(script).split()
    assert not writable, f"{container[1]}: writable by UID {UID} outside {allowed}: {writable[:20]}"


@pytest.mark.parametrize("name", sorted(VERSION_COMMANDS))
def test_program_is_the_pinned_version(name: str) -> None:
    _docker_ready()
    img = stack_images._by_name(name)
    _image_config(img.ref)
    program, *args = VERSION_COMMANDS[name]
    proc = run(["docker", "run", "--rm", "--entrypoint", program, img.ref, *args], check=False, timeout=120)
    said = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 0, f"{img.ref}: {program} {' '.join(args)} exited {proc.returncode}: {said[-500:]}"
    assert f"version {img.version.removeprefix('v')}" in said.replace("version v", "version "), (
        f"{img.ref}: {program} reports {said.splitlines()[0]!r}, pinned {img.version}"
    )


def test_works_with_read_only_root_filesystem(image: tuple[str, str, dict[str, Any]], started: list[str]) -> None:
    name, ref, _ = image
    smoke = SMOKE.get(name, Smoke())
    if smoke.oneshot:
        proc = run(
            ["docker", "run", "--rm", "--read-only", "--tmpfs", "/tmp:rw,mode=1777", ref, *smoke.oneshot],
            check=False,
            timeout=120,
        )
        assert proc.returncode == 0, f"{ref} {' '.join(smoke.oneshot)} exited {proc.returncode}: {proc.stderr[-800:]}"
        return
    cid = _start(ref, *smoke.args, read_only=True, smoke=smoke)
    started.append(cid)  # its log goes to the test's diagnostics if it fails
    if smoke.port:
        wait_for(
            lambda: _http_ready(cid, smoke),
            what=f"{ref} answering {smoke.path} with a read-only root filesystem",
            timeout=60,
            until=lambda status: status == 200,
        )
    if smoke.exec_check:
        wait_for(
            lambda: run(["docker", "exec", cid, *smoke.exec_check], timeout=30).stdout,
            what=f"{ref}: {' '.join(smoke.exec_check)} with a read-only root filesystem",
            timeout=30,
        )


# --- the images working together, on a private Docker network (what the e2e cluster relies on) ---

PROMETHEUS_CONFIG = """\
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [/config/rules.yml]
alerting:
  alertmanagers: [{static_configs: [{targets: ["alertmanager:9093"]}]}]
"""
RULES = """\
groups:
  - name: image-e2e
    rules:
      - alert: ImageE2EAlwaysFiring
        expr: vector(1)
        labels: {severity: test}
"""
ALERTMANAGER_CONFIG = """\
route: {receiver: hook, group_by: [alertname], group_wait: 1s, group_interval: 1s, repeat_interval: 1h}
receivers:
  - name: hook
    webhook_configs: [{url: "http://receiver:8080/hook/e2e", send_resolved: false}]
"""


@pytest.fixture
def network() -> Iterator[str]:
    _docker_ready()
    name = f"pv-image-net-{uuid.uuid4().hex[:8]}"
    run(["docker", "network", "create", name], timeout=60)
    try:
        yield name
    finally:
        for container in run(["docker", "ps", "-aq", "--filter", f"network={name}"], timeout=60).stdout.split():
            _remove(container)
        run(["docker", "network", "rm", name], check=False, timeout=60)


def _serve(network: str, alias: str, ref: str, *args: str, config: Path | None = None, port: int = 0) -> str:
    cmd = ["docker", "run", "-d", "--network", network, "--network-alias", alias, "--read-only"]
    cmd += ["--tmpfs", "/tmp:rw,mode=1777"]
    if config:
        cmd += ["-v", f"{config}:/config:ro"]
    if port:
        cmd += ["-p", f"127.0.0.1::{port}"]
    _image_config(ref)
    return run([*cmd, ref, *args], timeout=120).stdout.strip()


def _config_dir(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    path.chmod(0o755)  # the containers read it as UID 10001
    for name, text in files.items():
        (path / name).write_text(text)
        (path / name).chmod(0o644)
    return path


def test_alert_travels_from_prometheus_through_alertmanager_to_the_receiver(
    network: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    receiver = _serve(network, "receiver", stack_images._by_name("alert-receiver").ref, port=8080)
    am_config = _config_dir(tmp_path / "am", {"alertmanager.yml": ALERTMANAGER_CONFIG})
    alertmanager = _serve(
        network,
        "alertmanager",
        stack_images._by_name("alertmanager").ref,
        "--config.file=/config/alertmanager.yml",
        "--storage.path=/tmp/am",
        config=am_config,
    )
    prom_config = _config_dir(tmp_path / "prom", {"prometheus.yml": PROMETHEUS_CONFIG, "rules.yml": RULES})
    prometheus = _serve(
        network,
        "prometheus",
        stack_images._by_name("prometheus").ref,
        "--config.file=/config/prometheus.yml",
        "--storage.tsdb.path=/tmp/data",
        config=prom_config,
    )
    # Their logs go to the test's diagnostics if it fails (the network fixture removes them after).
    diagnostics.containers(request).extend([prometheus, alertmanager, receiver])
    port = run(["docker", "port", receiver, "8080/tcp"], timeout=30).stdout.split(":")[-1].strip()
    url = f"http://127.0.0.1:{port}/notifications"
    found = wait_for(
        lambda: httpx.get(url, params={"alertname": "ImageE2EAlwaysFiring"}, timeout=2).json(),
        what="ImageE2EAlwaysFiring to reach the receiver through Alertmanager",
        timeout=120,
        interval=1,
    )
    assert found[0]["hook"] == "e2e"
    assert found[0]["receiver"] == "hook"
    assert found[0]["alerts"][0]["labels"]["severity"] == "test"


def test_netpol_probe_between_containers(network: str) -> None:
    ref = stack_images._by_name("netpol-probe").ref
    _serve(network, "server", ref)
    targets = ["server:8080", "udp://server:8080", "server:9"]

    def probe() -> list[dict[str, Any]]:
        proc = run(
            ["docker", "run", "--rm", "--network", network, "--read-only", ref, "connect", "--timeout", "2s", *targets],
            check=False,
            timeout=60,
        )
        return [json.loads(line) for line in proc.stdout.splitlines()]

    results = wait_for(
        probe,
        what="the probe server answering on TCP and UDP 8080",
        timeout=60,
        interval=1,
        until=lambda rs: [r["result"] for r in rs][:2] == ["connected", "connected"],
    )
    assert [r["result"] for r in results] == ["connected", "connected", "refused"], results
    assert results[0]["peer"] == results[1]["peer"] != ""
