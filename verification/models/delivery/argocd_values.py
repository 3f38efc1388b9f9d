"""Each ArgoCD Application renders the app chart with the values of the environment it deploys to.

A staging Application that lists test's values files renders and syncs fine: fault injection on,
test's timings and resources in staging. The environment is the destination namespace; the files
are the ones `bluegreen.values_files` names for (app, environment), in the same order.
"""

import os
from pathlib import Path
from typing import Any

from verification.errors import UserError
from verification.models.delivery import argocd
from verification.models.delivery import chart as bg
from verification.paths import REPO_ROOT


def _chart_sources(app: dict[str, Any]) -> list[dict[str, Any]]:
    spec = app.get("spec") or {}
    sources = spec.get("sources") or ([spec["source"]] if spec.get("source") else [])
    chart = bg.CHART.resolve()
    return [s for s in sources if s.get("path") and (REPO_ROOT / str(s["path"])).resolve() == chart]


def check(objects: list[dict[str, Any]]) -> list[str]:
    problems = []
    for name, app in sorted(argocd.applications(objects).items()):
        env = argocd.app_namespace(app)
        for source in _chart_sources(app):
            helm = source.get("helm") or {}
            release = str(helm.get("releaseName") or name)
            base = REPO_ROOT / str(source["path"])
            got = [
                Path(os.path.normpath(base / f)).relative_to(REPO_ROOT).as_posix() for f in helm.get("valueFiles") or []
            ]
            try:
                expected = [p.relative_to(REPO_ROOT).as_posix() for p in bg.values_files(release, str(env))]
            except UserError as exc:
                problems.append(f"Application {name} (destination {env}): {exc}")
                continue
            if got != expected:
                problems.append(
                    f"Application {name} deploys {release} to {env} with values {got}; "
                    f"expected {expected} (the environment's own files, in this order)"
                )
    return problems
