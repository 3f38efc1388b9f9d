"""Mistakes in the chart fail conformance with a message naming the cause.

Each case edits a temporary copy of the chart (or passes bad values), renders it once, and
asserts that the checks (or helm itself) name the mistake. All cases render in parallel. Each
check's finer cases are unit-tested on hand-written objects in tests/bluegreen/test_chart_checks.py.
"""

import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from verification.errors import UserError
from verification.models.delivery import chart as bg

APP, ENV, ACTIVE = "sample-app", "test", "blue"


@dataclass(frozen=True)
class Mutation:
    name: str
    file: str  # template to edit, relative to the chart
    old: str
    new: str
    expect: str  # substring of the violation (or helm error) naming the cause
    overrides: tuple[tuple[str, Any], ...] = ()


MUTATIONS = [
    Mutation(
        "service-selects-both-colours",
        "templates/services.yaml",
        '{{- include "bg.selector" (dict "root" $root "color" $color) | nindent 4 }}',
        'app.kubernetes.io/name: {{ include "bg.app" $root }}',
        "Service sample-app selects both colours",
    ),
    Mutation(
        "preview-selects-active-colour",
        "templates/services.yaml",
        '(include "bg.idleColor" $root) (eq $role "active")',
        '(include "bg.activeColor" $root) (eq $role "active")',
        "Service sample-app-preview (preview) must select exactly sample-app-green's pods (activeColor=blue); "
        "it selects sample-app-blue (the active colour)",
    ),
    Mutation(
        "selector-label-mismatch",
        "templates/_helpers.tpl",
        'app.kubernetes.io/name: {{ include "bg.app" .root }}\napp.kubernetes.io/part-of',
        'app.kubernetes.io/name: {{ include "bg.app" .root }}-typo\napp.kubernetes.io/part-of',
        "Deployment sample-app-blue: selector {'app.kubernetes.io/name': 'sample-app', 'color': 'blue'} "
        "does not match its pod template labels",
    ),
    Mutation(
        "missing-readiness-probe",
        "templates/deployment.yaml",
        "          readinessProbe:\n            httpGet: {path: /readyz, port: http}\n"
        "            {{- toYaml $v.probes.readiness | nindent 12 }}\n",
        "",
        "Deployment sample-app-blue container app: readinessProbe is missing",
    ),
    Mutation(
        # Hard-coded past the chart's guard (which checks values): the conformance check must catch it.
        "grace-below-drain-check",
        "templates/deployment.yaml",
        "terminationGracePeriodSeconds: {{ $rt.terminationGracePeriodSeconds }}",
        "terminationGracePeriodSeconds: 3",
        "Deployment sample-app-blue: terminationGracePeriodSeconds 3 must exceed preStop sleep 5s "
        "+ DRAIN_DELAY_SECONDS 5s",
    ),
    Mutation(
        "grace-below-drain-values",
        "templates/deployment.yaml",
        "",
        "",
        "runtime.terminationGracePeriodSeconds must exceed preStopSleepSeconds + drainDelaySeconds",
        overrides=(("runtime", {"terminationGracePeriodSeconds": 8}),),
    ),
    Mutation(
        "typo-in-values",
        "templates/deployment.yaml",
        "",
        "",
        "at '/runtime': additional properties 'drainDelaySecond' not allowed",
        overrides=(("runtime", {"drainDelaySecond": 3}),),
    ),
]


def _apply(mutation: Mutation, root: Path) -> str:
    """Render a mutated copy of the chart; the violations (or helm's error) as one text."""
    chart = root / mutation.name / "chart"
    shutil.copytree(bg.CHART, chart)
    target = chart / mutation.file
    text = target.read_text()
    if mutation.old:
        assert text.count(mutation.old) == 1, f"{mutation.name}: the text to mutate is not unique in {mutation.file}"
        target.write_text(text.replace(mutation.old, mutation.new))
    try:
        rendered = bg.render(APP, ENV, ACTIVE, chart=chart, overrides=dict(mutation.overrides))
    except UserError as exc:
        return str(exc)
    return "\n".join(bg.violations(rendered))


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("mutations")
    with ThreadPoolExecutor(max_workers=4) as pool:
        texts = pool.map(lambda m: _apply(m, root), MUTATIONS)
    return dict(zip((m.name for m in MUTATIONS), texts, strict=True))


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.name)
def test_mistake_is_named(outcomes: dict[str, str], mutation: Mutation) -> None:
    found = outcomes[mutation.name]
    assert found, f"{mutation.name}: the mutated chart passed every check"
    assert mutation.expect in found, f"{mutation.name}: expected {mutation.expect!r} in:\n{found}"
