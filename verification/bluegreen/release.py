"""The source of truth of a switch: the Helm release `<app>` and its values.

Helm keeps release state in ConfigMaps (HELM_DRIVER=configmap), not Secrets, so a deployer
identity needs no access to Secrets. Every upgrade passes the environment's values files plus
the colour values explicitly (never --reuse-values): a changed environment file still takes
effect, and the colour state is exactly what the orchestrator decided.
"""

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verification.models import bluegreen as chart
from verification.run import CommandError, run

HELM_DRIVER = "configmap"


@dataclass(frozen=True)
class Target:
    """One app's release in one environment of one cluster."""

    app: str
    env: str
    namespace: str
    context: str | None = None
    kubeconfig: str | None = None
    # Extra values files after the environment's (e.g. e2e: no NodePort in a second namespace,
    # since NodePorts are cluster-wide).
    extra_values: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        where = f"{self.namespace}" + (f" @ {self.context}" if self.context else "")
        return f"{self.app} ({self.env} profile, namespace {where})"


def helm_env() -> dict[str, str]:
    return {**os.environ, "HELM_DRIVER": HELM_DRIVER}


def _scope(target: Target) -> list[str]:
    args = ["--namespace", target.namespace]
    if target.context:
        args += ["--kube-context", target.context]
    if target.kubeconfig:
        args += ["--kubeconfig", target.kubeconfig]
    return args


def current_values(target: Target) -> dict[str, Any] | None:
    """The release's user-supplied values, or None when the release is not installed."""
    cmd = [chart.helm(), "get", "values", target.app, *_scope(target), "--output", "json"]
    proc = run(cmd, check=False, env=helm_env(), timeout=60)
    if proc.returncode != 0:
        if "not found" in proc.stderr:
            return None
        raise CommandError(cmd, proc.returncode, proc.stdout, proc.stderr)
    return json.loads(proc.stdout or "null") or {}


def colour_values(target: Target, release_values: dict[str, Any] | None) -> dict[str, Any]:
    """activeColor and each colour's tag/version: the release's, else the environment's defaults."""
    defaults = chart.merged_values(target.app, target.env)
    values = release_values or {}
    out: dict[str, Any] = {"activeColor": values.get("activeColor") or defaults.get("activeColor", "blue")}
    for color in chart.COLORS:
        mine = values.get(color) or {}
        default = defaults.get(color) or {}
        tag = str(mine.get("tag") or default.get("tag") or "")
        out[color] = {"tag": tag, "version": str(mine.get("version") or default.get("version") or tag)}
    return out


def apply(target: Target, colours: dict[str, Any], *, timeout: float = 300) -> None:
    """helm upgrade --install with the environment's files and the given colour values."""
    with tempfile.TemporaryDirectory(prefix="bluegreen-") as tmp:
        values_args = chart.helm_values_args(target.app, target.env, colours, Path(tmp), target.extra_values)
        cmd = [
            chart.helm(),
            "upgrade",
            "--install",
            target.app,
            str(chart.CHART),
            *_scope(target),
            *values_args,
            "--history-max",
            "20",
            "--timeout",
            f"{int(timeout)}s",
        ]
        run(cmd, env=helm_env(), timeout=timeout + 30)
