"""A sample app as a real local process on free loopback ports: the target of tests and benchmarks.

Started as a verification.run.Background (long-running servers); readiness awaited with wait_for.
"""

import importlib.util
import json
import os
import shutil
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from verification import catalog
from verification.errors import UserError
from verification.run import Background
from verification.wait import wait_for


def problem(app: str) -> str | None:
    """Why `app` cannot run from source here (platform/apps/<app>/app.yaml), or None."""
    spec = catalog.current().app(app)
    if spec.runtime == "node" and not shutil.which("node"):
        return f"{app} needs Node.js >= 20: node is not installed"
    missing = [p for p in spec.paths if not (spec.source / p).exists()]
    missing += [m for m in spec.modules if importlib.util.find_spec(m) is None]
    if not missing:
        return None
    return f"{app} cannot run from source: no {', '.join(missing)} ({spec.setup} in {spec.source})"


def command(app: str) -> tuple[list[str], Path]:
    """How to start `app` from its source folder, and that folder."""
    if why := problem(app):
        raise UserError(why)
    spec = catalog.current().app(app)
    runtime = sys.executable if spec.runtime == "python" else str(shutil.which("node"))
    return [runtime, *spec.start], spec.source


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def app_env(http_port: int, metrics_port: int, **overrides: str) -> dict[str, str]:
    env = {
        "APP_VERSION": "1.0.0",
        "APP_COLOR": "blue",
        "HTTP_PORT": str(http_port),
        "METRICS_PORT": str(metrics_port),
        "BIND_ADDRESS": "127.0.0.1",
        "LOG_LEVEL": "info",
        **overrides,
    }
    return {**os.environ, **env}


@dataclass
class LocalApp:
    name: str
    process: Background
    http_port: int
    metrics_port: int
    log_path: Path
    env: dict[str, str] = field(repr=False, default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}"

    def logs(self) -> list[dict[str, Any]]:
        """Every log line, parsed: each must be one JSON object."""
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]

    def terminate(self) -> None:
        self.process.signal()  # SIGTERM: the drain starts

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def stop(self) -> int | None:
        """SIGTERM, then wait past the drain delay; kill only if it hangs."""
        return self.process.stop(timeout=float(self.env.get("DRAIN_DELAY_SECONDS", "5")) + 15)


def start_app(app: str, log_dir: Path, *, ready_timeout: float = 30, **overrides: str) -> LocalApp:
    """Start `app` with the contract's variables (+ overrides); return once /readyz answers 200."""
    cmd, cwd = command(app)
    http_port, metrics_port = free_port(), free_port()
    while metrics_port == http_port:
        metrics_port = free_port()
    env = app_env(http_port, metrics_port, **overrides)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{app}-{http_port}.log"
    local = LocalApp(app, Background(app, cmd, log_path, cwd, env).start(), http_port, metrics_port, log_path, env)
    try:
        wait_ready(local.process, f"{local.url}/readyz", ready_timeout)
    except BaseException:
        local.stop()
        raise
    return local


def wait_ready(process: Background, url: str, timeout: float = 60) -> None:
    """Until `url` answers 200; a process that exits first is one UserError at once (exit code, log)."""

    def state() -> str:
        if not process.running():
            return "exited"
        return "ready" if httpx.get(url, timeout=2).status_code == 200 else "not ready"

    seen = wait_for(
        state, what=f"{process.name} ready at {url}", timeout=timeout, interval=0.1, until=lambda s: s != "not ready"
    )
    if seen == "exited":
        raise UserError(f"{process.name} exited {process.wait(5)} at start; log: {process.tail(20)}")
