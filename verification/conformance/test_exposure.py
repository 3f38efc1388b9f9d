"""Nothing is published on the nodes without a reason, and test-only allowances stay in test overlays."""

from typing import Any

import pytest

from verification.models.delivery import chart as bg
from verification.models.schema import references
from verification.models.workloads import exposure
from verification.paths import ENVIRONMENTS
from verification.yamlio import load_file

PROFILES = [env for env in bg.environments() if bg.namespace_for(env) != env]


def test_production_exposes_only_what_it_names(
    platform_objects: list[dict[str, Any]], chart_renders: dict[tuple[str, str, str], Any]
) -> None:
    rendered = [
        o for (_, env, _), r in chart_renders.items() if env not in PROFILES for o in references.render_objects(r)
    ]
    problems = exposure.check_production([*platform_objects, *rendered])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("profile", PROFILES)
def test_profile_overlay_is_what_its_renders_need(profile: str, chart_renders: dict[tuple[str, str, str], Any]) -> None:
    path = ENVIRONMENTS / profile / "overlay" / "allowances.yaml"
    overlay = load_file(path) if path.is_file() else {}
    for color in bg.COLORS:
        renders = [chart_renders[(app, profile, color)] for app in bg.apps(profile)]
        rendered = [o for r in renders for o in references.render_objects(r)]
        problems = exposure.check_overlay(overlay, str(path), rendered)
        assert not problems, "\n".join(problems)
