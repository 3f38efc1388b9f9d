"""Quotas and LimitRanges admit what the charts render at a rollout's peak.

Mutants killed here: a quota below a rollout's peak, a LimitRange max below a container's limit
(verification/mutants/catalog/quotas.yaml). That every container states its requests and limits,
which these figures are computed from, is the workload hygiene check `resources`.
"""

from typing import Any

import pytest

from verification.models.delivery import chart as bg
from verification.models.workloads import capacity

ENVIRONMENTS = [env for env in bg.environments() if bg.namespace_for(env) == env]  # test, staging


def _renders(chart_renders: dict[tuple[str, str, str], bg.Render], envs: list[str]) -> list[bg.Render]:
    # One render per release: both colours' Deployments are in each; the active colour moves selectors only.
    return [chart_renders[(app, env, "blue")] for env in envs for app in bg.apps(env)]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_quota_and_limit_range_admit_the_apps_at_a_rollouts_peak(
    platform_objects: list[dict[str, Any]], chart_renders: dict[tuple[str, str, str], bg.Render], env: str
) -> None:
    problems = capacity.check_namespace(platform_objects, env, _renders(chart_renders, [env]))
    assert not problems, "\n".join(problems)
