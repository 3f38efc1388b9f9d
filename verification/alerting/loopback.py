"""A real Prometheus + Alertmanager + app processes on loopback, wired like the platform.

- Prometheus loads the rule file extracted from the PrometheusRule objects (alerts.rule_file),
  scrapes each app process with static relabelling adding env/app/color/version/namespace/pod
  (what the charts' ServiceMonitors add from pod labels in the cluster), and uses the
  intervals of a timing profile.
- Alertmanager runs the platform's configuration (from its Secret) with each receiver's
  integrations replaced by one webhook to the test's receiver (`/<receiver name>`), keeping
  `send_resolved` as the platform sets it, credentials read from a file; only the timing
  profile's grouping intervals change.
"""

import copy
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from verification import tools
from verification.errors import UserError
from verification.load.localapp import app_env, command, free_port, wait_ready
from verification.models.monitoring import alerts, routes
from verification.paths import PLATFORM
from verification.run import Background as Process
from verification.yamlio import load_file

TIMING_PROFILES = PLATFORM / "monitoring-tests" / "timing-profiles.yaml"
GROUPING_KEYS = ("group_wait", "group_interval", "repeat_interval")


@dataclass(frozen=True)
class Profile:
    name: str
    scrape_interval: str
    scrape_timeout: str
    evaluation_interval: str
    resend_delay: str
    alertmanager: dict[str, str]


def profile(name: str, path: Path = TIMING_PROFILES) -> Profile:
    data = load_file(path) or {}
    if name not in data:
        raise UserError(f"{path}: no timing profile {name!r} (have {', '.join(sorted(data))})")
    raw = data[name]
    return Profile(
        name,
        raw["scrape_interval"],
        raw["scrape_timeout"],
        raw["evaluation_interval"],
        raw.get("resend_delay", "1m"),
        raw["alertmanager"],
    )


# --- configuration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One app process as Prometheus sees it: the labels the ServiceMonitor relabelling adds."""

    app: str
    env: str
    color: str
    version: str
    metrics_port: int

    @property
    def pod(self) -> str:
        return f"{self.app}-{self.color}-loopback"


def prometheus_config(
    targets: list[Target], timing: Profile, rule_path: Path, alertmanager: str, external_labels: dict[str, str]
) -> dict[str, Any]:
    def relabel(target: Target) -> list[dict[str, str]]:
        labels = {
            "job": target.app,
            "namespace": target.env,
            "pod": target.pod,
            "env": target.env,
            "app": target.app,
            "color": target.color,
            "version": target.version,
        }
        return [{"target_label": k, "replacement": v} for k, v in labels.items()]

    return {
        "global": {
            "scrape_interval": timing.scrape_interval,
            "scrape_timeout": timing.scrape_timeout,
            "evaluation_interval": timing.evaluation_interval,
            "external_labels": external_labels,
        },
        "rule_files": [str(rule_path)],
        "alerting": {"alertmanagers": [{"api_version": "v2", "static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": [
            {
                "job_name": f"{t.app}-{t.env}",
                "static_configs": [{"targets": [f"127.0.0.1:{t.metrics_port}"]}],
                "relabel_configs": relabel(t),
            }
            for t in targets
        ],
    }


def loopback_alertmanager_config(
    cfg: dict[str, Any], webhook_url: str, token_file: Path, timing: Profile
) -> dict[str, Any]:
    live = copy.deepcopy(cfg)
    for receiver in live.get("receivers") or []:
        integrations = [key for key in receiver if key.endswith("_configs")]
        entries = [entry for key in integrations for entry in receiver[key] or []]
        for key in integrations:
            del receiver[key]
        if entries:
            receiver["webhook_configs"] = [
                {
                    "url": f"{webhook_url}/{receiver['name']}",
                    "send_resolved": all(entry.get("send_resolved") is True for entry in entries),
                    "http_config": {"authorization": {"credentials_file": str(token_file)}},
                }
            ]

    def retime(route: dict[str, Any], root: bool) -> None:
        # The root takes the profile's values; a route that sets its own keeps it when that is
        # shorter (never slower than the platform: the heartbeat route's 1m repeat is what makes
        # the Watchdog a heartbeat, a 1h test repeat would silence it after the first delivery).
        for key in GROUPING_KEYS:
            if root:
                route[key] = timing.alertmanager[key]
            elif key in route:
                mine, test = route[key], timing.alertmanager[key]
                route[key] = mine if alerts.duration_seconds(mine) < alerts.duration_seconds(test) else test
        for child in route.get("routes") or []:
            retime(child, False)

    retime(live["route"], True)
    return live


# --- processes -------------------------------------------------------------------------------


@dataclass
class App:
    """A real sample app process with fault injection enabled, on free loopback ports."""

    name: str
    env: str
    workdir: Path
    color: str = "blue"
    version: str = "1.0.0"
    http_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    process: Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def target(self) -> Target:
        return Target(self.name, self.env, self.color, self.version, self.metrics_port)

    def command(self) -> tuple[list[str], Path, dict[str, str]]:
        faults = {"FAULT_INJECTION": "enabled", "DRAIN_DELAY_SECONDS": "0", "LOG_LEVEL": "warn"}
        env = app_env(self.http_port, self.metrics_port, APP_VERSION=self.version, APP_COLOR=self.color, **faults)
        return (*command(self.name), env)

    def start(self) -> None:
        cmd, cwd, env = self.command()
        log = self.workdir / f"{self.name}-{self.env}.log"
        self.process = Process(f"{self.name} ({self.env})", cmd, log, cwd, env).start()
        wait_ready(self.process, f"{self.url}/readyz")

    def stop(self) -> None:
        if self.process:
            self.process.stop()

    def set_fault(self, fault: dict[str, Any]) -> None:
        httpx.post(f"{self.url}/admin/faults", json=fault, timeout=5).raise_for_status()

    def clear_fault(self) -> None:
        httpx.delete(f"{self.url}/admin/faults", timeout=5).raise_for_status()


class Traffic:
    """User requests (`GET /`) from a few threads until stopped: what the alerts measure."""

    def __init__(self, url: str, workers: int = 4, pause: float = 0.1) -> None:
        self.url, self.pause = url, pause
        self.sent = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(workers)]

    def _loop(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                try:
                    client.get(f"{self.url}/")
                    self.sent += 1
                except httpx.HTTPError:
                    pass  # a stopped app refuses; the alerts see it through scrapes, not here
                self._stop.wait(self.pause)  # pacing, interruptible

    def start(self) -> "Traffic":
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(15)


# --- the stack -------------------------------------------------------------------------------


@dataclass
class Stack:
    """Prometheus and Alertmanager on loopback for `apps`, with the platform's rules and routes."""

    objects: list[dict[str, Any]]
    apps: list[App]
    timing: Profile
    workdir: Path
    webhook_url: str
    token: str
    prometheus_port: int = field(default_factory=free_port)
    alertmanager_port: int = field(default_factory=free_port)
    processes: list[Process] = field(default_factory=list)

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.prometheus_port}"

    @property
    def alertmanager_url(self) -> str:
        return f"http://127.0.0.1:{self.alertmanager_port}"

    def write_configs(self) -> tuple[Path, Path]:
        rule_path = alerts.write_rule_file(self.objects, self.workdir)
        token_file = self.workdir / "receiver-token"
        token_file.write_text(self.token)
        token_file.chmod(0o600)
        spec = alerts.prometheus_resource(self.objects).get("spec") or {}
        prom = prometheus_config(
            [a.target for a in self.apps],
            self.timing,
            rule_path,
            f"127.0.0.1:{self.alertmanager_port}",
            {str(k): str(v) for k, v in (spec.get("externalLabels") or {}).items()},
        )
        prom_path = self.workdir / "prometheus.yml"
        prom_path.write_text(yaml.safe_dump(prom, sort_keys=False))
        am = loopback_alertmanager_config(routes.config(self.objects), self.webhook_url, token_file, self.timing)
        am_path = routes.write_config(am, self.workdir)
        return prom_path, am_path

    def _serve(self, name: str, tool: str, *flags: str) -> Process:
        process = Process(name, [str(tools.require(tool).path), *flags], self.workdir / f"{name}.log").start()
        self.processes.append(process)
        return process

    def start(self) -> None:
        prom_path, am_path = self.write_configs()
        alertmanager = self._serve(
            "alertmanager",
            "prometheus-alertmanager",
            f"--config.file={am_path}",
            f"--storage.path={self.workdir / 'alertmanager-data'}",
            f"--web.listen-address=127.0.0.1:{self.alertmanager_port}",
            "--cluster.listen-address=",  # one instance, no gossip port
        )
        prometheus = self._serve(
            "prometheus",
            "prometheus",
            f"--config.file={prom_path}",
            f"--storage.tsdb.path={self.workdir / 'prometheus-data'}",
            f"--web.listen-address=127.0.0.1:{self.prometheus_port}",
            f"--rules.alert.resend-delay={self.timing.resend_delay}",
        )
        wait_ready(alertmanager, f"{self.alertmanager_url}/-/ready")
        wait_ready(prometheus, f"{self.prometheus_url}/-/ready")

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
