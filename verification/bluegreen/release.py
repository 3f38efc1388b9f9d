"""The source of truth of a switch: the Helm release `<app>`, its values and its stored manifest.

Helm keeps release state in ConfigMaps (HELM_DRIVER=configmap), not Secrets, so a deployer
identity needs no access to Secrets. A deploy passes the environment's values files plus the
colour values explicitly and records the profile and chart in the release (`deployedWith`). A
switch or rollback passes nothing from the working tree: it re-applies the release's own stored
values with another activeColor, after the plan (plan.py) showed that this changes only what
follows from the colour; the environment files and chart are rendered too, and any difference
they would make is refused (a deploy to the idle colour, never part of a flip).
"""

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verification.bluegreen.model import image_values
from verification.bluegreen.plan import Flat, Plan, classify, flatten_objects, remedy
from verification.errors import CommandError, UserError
from verification.models.delivery import chart
from verification.models.delivery.chart import deep_merge
from verification.run import run
from verification.yamlio import load_documents_from_text, load_file

HELM_DRIVER = "configmap"
Live = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]  # rendered objects -> their live counterparts
RECORD = "deployedWith"  # values key: {profile, chart} of the last deploy


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


def _values(target: Target, *, computed: bool) -> dict[str, Any] | None:
    cmd = [str(chart.helm()), "get", "values", target.app, *_scope(target), "--output", "json"]
    if computed:
        cmd.append("--all")
    proc = run(cmd, check=False, env=helm_env(), timeout=60)
    if proc.returncode != 0:
        if "not found" in proc.stderr:
            return None
        raise CommandError(cmd, proc.returncode, proc.stdout, proc.stderr)
    return json.loads(proc.stdout or "null") or {}


def current_values(target: Target) -> dict[str, Any] | None:
    """The release's user-supplied values, or None when the release is not installed."""
    return _values(target, computed=False)


def stored_values(target: Target) -> dict[str, Any] | None:
    """Every value the release's manifest was rendered with (chart defaults included)."""
    return _values(target, computed=True)


def stored_manifest(target: Target) -> list[dict[str, Any]]:
    """The objects of the release's current revision, as Helm rendered and stored them."""
    cmd = [str(chart.helm()), "get", "manifest", target.app, *_scope(target)]
    proc = run(cmd, env=helm_env(), timeout=60)
    return load_documents_from_text(proc.stdout, f"helm get manifest {target.app}")


def chart_label() -> str:
    meta = load_file(chart.CHART / "Chart.yaml") or {}
    return f"{meta.get('name')}-{meta.get('version')}"


def deployed_with(values: dict[str, Any] | None) -> dict[str, str]:
    """{profile, chart} the release was deployed with ({} for a release deployed before the record)."""
    record = (values or {}).get(RECORD)
    return {k: str(v) for k, v in record.items()} if isinstance(record, dict) else {}


def colour_values(target: Target, release_values: dict[str, Any] | None) -> dict[str, Any]:
    """activeColor and each colour's tag/version/digest: the release's, else the environment's defaults."""
    defaults = chart.merged_values(target.app, target.env)
    values = release_values or {}
    out: dict[str, Any] = {"activeColor": values.get("activeColor") or defaults.get("activeColor", "blue")}
    for color in chart.COLORS:
        mine = values.get(color) or {}
        source = mine if mine.get("tag") else defaults.get(color) or {}  # a digest belongs to its tag
        tag = str(source.get("tag") or "")
        version = str(mine.get("version") or (defaults.get(color) or {}).get("version") or tag)
        out[color] = image_values(tag, version, str(source.get("digest") or "") or None)
        if mine.get("settings"):
            out[color]["settings"] = mine["settings"]
    return out


def settings_keys() -> tuple[str, ...]:
    """The values a colour may keep from its deploy (the chart's schema lists them)."""
    schema = json.loads((chart.CHART / "values.schema.json").read_text())
    return tuple(schema["definitions"]["colour"]["properties"]["settings"]["propertyNames"]["enum"])


def settings_of(values: dict[str, Any], color: str | None) -> dict[str, Any]:
    """What a colour's Deployment and PDB render with: the shared values, overlaid with its own."""
    shared = {k: values[k] for k in settings_keys() if k in values}
    own = ((values.get(color) or {}) if color else {}).get("settings") or {}
    return deep_merge(shared, own)


def pin_active(target: Target, colours: dict[str, Any], stored: dict[str, Any] | None) -> dict[str, Any]:
    """Colour values for a deploy to the idle colour: the environment's current values reach the
    idle colour only; the active colour keeps the settings it runs now (`<colour>.settings`,
    written only where they differ from the environment's)."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in colours.items()}
    for color in chart.COLORS:
        if isinstance(out.get(color), dict):
            out[color].pop("settings", None)
    if not stored:
        return out
    active = str(colours["activeColor"])
    environment = chart.merged_values(target.app, target.env)
    for extra in target.extra_values:
        environment = deep_merge(environment, load_file(Path(extra)) or {})
    kept = settings_of(stored, active)
    if kept != settings_of(environment, None):
        out[active] = {**out.get(active, {}), "settings": kept}
    return out


def _upgrade(target: Target, values_args: list[str], timeout: float) -> None:
    cmd = [str(chart.helm()), "upgrade", "--install", target.app, str(chart.CHART), *_scope(target), *values_args]
    run([*cmd, "--history-max", "20", "--timeout", f"{int(timeout)}s"], env=helm_env(), timeout=timeout + 30)


def apply(target: Target, colours: dict[str, Any], *, timeout: float = 300) -> None:
    """A deploy: helm upgrade --install with the environment's files, the given colour values and
    the record of the profile and chart it was deployed with."""
    overrides = {**colours, RECORD: {"profile": target.env, "chart": chart_label()}}
    with tempfile.TemporaryDirectory(prefix="bluegreen-") as tmp:
        values_args = chart.helm_values_args(target.app, target.env, overrides, Path(tmp), target.extra_values)
        _upgrade(target, values_args, timeout)


def flip(target: Target, values: dict[str, Any], *, timeout: float = 300) -> None:
    """A switch or rollback: the release's stored values with the new activeColor (Plan.values),
    and nothing from the working tree, so the idle colour keeps its exact pods."""
    with tempfile.TemporaryDirectory(prefix="bluegreen-") as tmp:
        path = Path(tmp) / "release-values.yaml"
        path.write_text(json.dumps(values))  # JSON is YAML
        _upgrade(target, ["-f", str(path)], timeout)


def plan_flip(target: Target, action: str, to: str, version: str | None = None) -> Plan:
    """Compare what a flip to `to` applies (the stored values with the new colour) and what the
    command's environment renders with it, with the release's stored manifest."""
    stored = stored_values(target)
    if stored is None:
        raise UserError(f"{target.label}: no Helm release {target.app} to {action}")
    live = flatten_objects(stored_manifest(target))
    record = deployed_with(stored)
    plan = Plan(target.app, action, to, values={**stored, "activeColor": to}, restore=stored)
    plan.remedy = remedy(target.app, target.env, to, version)
    verb = "switch" if action == "switch" else "roll back"
    profile = record.get("profile")
    if profile and profile != target.env:
        plan.notes.append(
            f"refusing to {verb} {target.app}: it was deployed with the {profile} profile "
            f"({record.get('chart', 'chart unknown')}), not {target.env}; changing the profile is a deploy "
            f"(platform-verify bluegreen deploy {target.app} --env {target.env} --change-profile), never a switch"
        )
        plan.remedy = ""
    base = profile if profile in chart.environments() else target.env  # the stored values override it all
    _, kept_to, kept_other = render_pair(target, to, stored, env=base)
    _, env_to, env_other = render_pair(target, to, colour_values(target, stored))
    plan.changes = classify(live, kept_to, kept_other, why="the chart changed")
    files = f"platform/environments/{target.env}" + "".join(f" + {f}" for f in target.extra_values)
    plan.merge(classify(live, env_to, env_other, why=f"{files} != the release"))
    return plan


def render_pair(
    target: Target, active: str, overrides: dict[str, Any] | None, *, env: str | None = None
) -> tuple[list[dict[str, Any]], Flat, Flat]:
    """The release rendered with `active` and with the other colour (same values): the objects
    with `active`, and both renders flattened (their differences are the colour's fields)."""
    keys = [(target.app, env or target.env, c) for c in (active, chart.other(active))]
    renders = chart.render_many(keys, overrides=overrides, namespace=target.namespace, extra_files=target.extra_values)
    objects = list(renders[keys[0]].objects)
    return objects, flatten_objects(objects), flatten_objects(renders[keys[1]].objects)


def plan_deploy(target: Target, colours: dict[str, Any], live: Live | None = None) -> Plan:
    """What a deploy with these colour values and the environment's files changes in the release's
    stored manifest, or (GitOps, no release) in the `live` objects, on the fields the render sets."""
    active = str(colours["activeColor"])
    objects, planned, planned_other = render_pair(target, active, colours)
    deployed = flatten_objects(live(objects) if live else stored_manifest(target))
    plan = Plan(target.app, "deploy", chart.other(active), values=colours)
    plan.changes = classify(deployed, planned, planned_other, subset=live is not None, why="deployed")
    return plan
