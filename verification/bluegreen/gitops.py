"""The source of truth where ArgoCD manages the apps: the app's values file in git.

ArgoCD renders the chart itself (no Helm release exists) and self-heal reverts any change made
beside git, so a switch there writes `activeColor` and the colours' tag/version into
`platform/environments/<env>/<app>.yaml` (the file the Application's valueFiles name), then runs
the deploy job's sync command (commit, push, `argocd app sync`), and the orchestrator observes
the cluster until the Services follow.
"""

import os
import re
from pathlib import Path
from typing import Any

import yaml

from verification.bluegreen.plan import Plan, classify, flatten_objects, remedy
from verification.bluegreen.release import Live, Target, colour_values, plan_deploy, render_pair
from verification.errors import UserError
from verification.models.delivery import chart
from verification.run import run
from verification.yamlio import load_file, parse, read_text

COLOUR_KEYS = ("activeColor", *chart.COLORS)


def values_file(target: Target) -> Path:
    return chart.values_files(target.app, target.env)[-1]


def current_values(target: Target) -> dict[str, Any]:
    """The app's values file as ArgoCD renders it (always "installed": git is the state)."""
    data = load_file(values_file(target)) or {}
    if not isinstance(data, dict):
        raise UserError(f"{values_file(target)}: expected a mapping of values")
    return data


def write_colours(path: Path, colours: dict[str, Any]) -> None:
    """Replace the colour keys in the values file; its leading comment and other keys stay."""
    text = read_text(path)
    header = "".join(re.findall(r"^(?:#.*\n)*", text)[:1])
    data = parse(text, str(path)) or {}
    for key in COLOUR_KEYS:
        data.pop(key, None)
    data["activeColor"] = colours["activeColor"]
    for color in chart.COLORS:
        data[color] = {"tag": str(colours[color]["tag"]), "version": str(colours[color]["version"])}
        if colours[color].get("digest"):  # what ArgoCD syncs pulls TAG@DIGEST, as the deploy asked
            data[color]["digest"] = str(colours[color]["digest"])
        if colours[color].get("settings"):
            data[color]["settings"] = colours[color]["settings"]
    path.write_text(header + yaml.safe_dump(data, sort_keys=False, default_flow_style=False))


class GitOpsSource:
    """read/apply/plan for the orchestrator: write the values file, then run the sync command.

    There is no Helm release: the plan compares the render of the values files in git with the
    live objects (only the fields the render sets; the server adds defaults). A values file
    edited since the last sync shows as a difference there, so a flip never ships it.
    """

    def __init__(self, sync_command: str, live: Live) -> None:
        if not sync_command.strip():
            raise UserError("--source gitops needs --sync-command (e.g. git commit, git push, argocd app sync)")
        self.sync_command = sync_command
        self.live = live

    def plan_flip(self, target: Target, action: str, to: str, version: str | None = None) -> Plan:
        colours = self.read(target)
        objects, planned, planned_other = render_pair(target, to, None)
        live = flatten_objects(self.live(objects))
        plan = Plan(target.app, action, to, values={**colours, "activeColor": to}, restore=colours)
        plan.remedy = remedy(target.app, target.env, to, version)
        plan.changes = classify(live, planned, planned_other, subset=True, why=f"{values_file(target).parent} != live")
        return plan

    def plan_deploy(self, target: Target, colours: dict[str, Any]) -> Plan:
        return plan_deploy(target, colours, self.live)

    def read(self, target: Target) -> dict[str, Any]:
        return colour_values(target, current_values(target))

    def apply(self, target: Target, colours: dict[str, Any]) -> None:
        path = values_file(target)
        write_colours(path, colours)
        env = {
            **os.environ,
            "BLUEGREEN_APP": target.app,
            "BLUEGREEN_ENV": target.env,
            "BLUEGREEN_NAMESPACE": target.namespace,
            "BLUEGREEN_VALUES_FILE": str(path),
            "BLUEGREEN_ACTIVE_COLOR": str(colours["activeColor"]),
        }
        run(["sh", "-c", self.sync_command], env=env, timeout=600)
