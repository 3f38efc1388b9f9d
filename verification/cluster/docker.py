"""Docker engine bootstrap: make `docker` answer, installing and starting the engine if needed.

On machines whose capability bounding set lacks CAP_SYS_RESOURCE (this sandbox), privileged
containers (kind nodes) and negative oom_score_adj fail in plain runc; there the engine's
default runtime becomes the runc wrapper. Everywhere else the engine is left untouched.
"""

import json
import os
import shutil
from pathlib import Path
from typing import Any

from verification.cluster import capabilities, runc_wrapper
from verification.cluster.progress import say, step
from verification.errors import CommandError, UserError, WaitTimeout
from verification.paths import cache_dir
from verification.run import run
from verification.tools import apt_install
from verification.wait import wait_for

DAEMON_JSON = Path("/etc/docker/daemon.json")
WRAPPER_RUNTIME = "runc-wrapper"
WRAPPER_INSTALL_PATH = Path("/usr/local/libexec/platform-verify/runc-wrapper")
DOCKERD_PIDFILE = Path("/var/run/docker.pid")


def engine_answers() -> bool:
    return run(["docker", "info", "--format", "{{.ServerVersion}}"], check=False, timeout=30).returncode == 0


def default_runtime() -> str:
    return run(["docker", "info", "--format", "{{.DefaultRuntime}}"], timeout=30).stdout.strip()


def daemon_config_with_wrapper(config: dict[str, Any], wrapper: str) -> dict[str, Any]:
    """`config` plus the wrapper registered as the default runtime (other keys kept)."""
    runtimes = dict(config.get("runtimes", {}))
    runtimes[WRAPPER_RUNTIME] = {"path": wrapper}
    return {**config, "runtimes": runtimes, "default-runtime": WRAPPER_RUNTIME}


def ensure_engine() -> None:
    """Return once a Docker engine answers and can run privileged containers here.

    Installs Debian's engine and starts it when needed (root only); otherwise raises UserError
    naming what is missing.
    """
    if shutil.which("docker") is None and os.geteuid() != 0:
        raise UserError("no Docker engine: `docker` is not installed and this is not root (install Docker)")
    wrapper_needed = capabilities.lacks_sys_resource()
    answers = shutil.which("docker") is not None and engine_answers()
    if answers and (not wrapper_needed or default_runtime() == WRAPPER_RUNTIME):
        return
    if os.geteuid() != 0:
        if not answers:
            raise UserError("the Docker engine does not answer and this is not root: start Docker (dockerd)")
        raise UserError(
            "this machine lacks CAP_SYS_RESOURCE, so privileged kind nodes need the runc wrapper as the engine's "
            f"default runtime; as root run `platform-verify docker up`, or register {WRAPPER_INSTALL_PATH} "
            f"as runtime {WRAPPER_RUNTIME!r} and default-runtime in {DAEMON_JSON}"
        )
    if shutil.which("dockerd") is None:
        with step("install Debian's Docker engine (docker.io)"):
            apt_install("docker.io")
    config_changed = False
    if wrapper_needed:
        say("capability bounding set lacks CAP_SYS_RESOURCE: registering the runc wrapper as default runtime")
        config_changed = _install_wrapper()
    if answers and config_changed:
        _stop_dockerd()
    if not answers or config_changed:
        _start_dockerd()
    with step("wait for the Docker engine"):
        try:
            wait_for(engine_answers, what="the Docker engine to answer `docker info`", timeout=120, interval=1)
        except WaitTimeout as exc:
            where = "journalctl -u docker" if _systemd_running() else str(dockerd_log())
            host = os.environ.get("DOCKER_HOST", "default")
            raise UserError(f"{exc} (DOCKER_HOST={host}; engine log: {where})") from None
    if wrapper_needed and default_runtime() != WRAPPER_RUNTIME:
        raise UserError(f"the Docker engine ignored {DAEMON_JSON}: default runtime is {default_runtime()!r}")


def _install_wrapper() -> bool:
    """Install the wrapper and register it in daemon.json; True if the engine must (re)start."""
    real = shutil.which("runc")
    if real is None:
        raise UserError("runc is missing although dockerd is installed (apt-get install runc)")
    built = runc_wrapper.build(str(Path(real).resolve()))
    changed = False
    if not WRAPPER_INSTALL_PATH.exists() or WRAPPER_INSTALL_PATH.read_bytes() != built.read_bytes():
        WRAPPER_INSTALL_PATH.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built, WRAPPER_INSTALL_PATH)
        changed = True
    current = json.loads(DAEMON_JSON.read_text()) if DAEMON_JSON.exists() else {}
    wanted = daemon_config_with_wrapper(current, str(WRAPPER_INSTALL_PATH))
    if wanted != current:
        DAEMON_JSON.parent.mkdir(parents=True, exist_ok=True)
        DAEMON_JSON.write_text(json.dumps(wanted, indent=2) + "\n")
        changed = True
    return changed


def _systemd_running() -> bool:
    return Path("/run/systemd/system").is_dir()


def dockerd_log() -> Path:
    path = cache_dir() / "logs" / "dockerd.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _start_dockerd() -> None:
    with step("start the Docker engine"):
        if _systemd_running():
            run(["systemctl", "restart", "docker"], timeout=120)
            return
        # No init system here (containers, CI runners): start-stop-daemon detaches dockerd and
        # returns at once, logging to a file we can point at when the engine fails to come up.
        run(
            [
                "start-stop-daemon", "--start", "--background", "--oknodo",
                "--pidfile", DOCKERD_PIDFILE, "--output", dockerd_log(),
                "--exec", shutil.which("dockerd") or "/usr/sbin/dockerd",
            ],
            timeout=60,
        )  # fmt: skip


def _stop_dockerd() -> None:
    with step("stop the Docker engine to apply the new runtime configuration"):
        if _systemd_running():
            run(["systemctl", "stop", "docker"], timeout=120)
            return
        try:
            run(
                ["start-stop-daemon", "--stop", "--oknodo", "--pidfile", DOCKERD_PIDFILE, "--retry", "TERM/60/KILL/5"],
                timeout=90,
            )
        except CommandError as exc:
            raise UserError(f"could not stop the running Docker engine to register the runc wrapper: {exc}") from exc


def buildkit_cli() -> tuple[list[str], dict[str, str]]:
    """A `docker build` that has BuildKit (COPY --chmod, cache mounts) on this machine.

    Docker CLI >= 23 needs the buildx plugin for BuildKit; without it, a CLI that still talks
    to the daemon's built-in BuildKit (Debian's docker.io client) does the same job.
    """
    if run(["docker", "buildx", "version"], check=False, timeout=30).returncode == 0:
        return ["docker", "buildx", "build", "--load"], dict(os.environ)
    for cli in ("/usr/bin/docker", "docker"):
        proc = run([cli, "version", "--format", "{{.Client.Version}}"], check=False, timeout=30)
        major = proc.stdout.strip().split(".", 1)[0]
        if proc.returncode == 0 and major.isdigit() and int(major) < 23:
            return [cli, "build"], {**os.environ, "DOCKER_BUILDKIT": "1"}
    raise UserError("no BuildKit-capable docker build here: install the buildx plugin (apt-get install docker-buildx)")


def build_image(
    context: Path,
    tag: str,
    *,
    dockerfile: Path | None = None,
    build_args: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    timeout: float = 3600,
) -> None:
    """`docker build` with BuildKit; output and stderr tail on failure via CommandError."""
    cmd, env = buildkit_cli()
    cmd = [*cmd, "--progress=plain", "-t", tag]
    if dockerfile is not None:
        cmd += ["-f", str(dockerfile)]
    for key, value in (build_args or {}).items():
        cmd += ["--build-arg", f"{key}={value}"]
    for key, value in (labels or {}).items():
        cmd += ["--label", f"{key}={value}"]
    run([*cmd, str(context)], env=env, timeout=timeout)


def image_label(ref: str, label: str) -> str | None:
    """The value of `label` on a local image, or None if the image (or label) is missing."""
    proc = run(["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", ref], check=False, timeout=60)
    if proc.returncode != 0:
        return None
    return (json.loads(proc.stdout.strip() or "null") or {}).get(label)
