"""Each colour keeps serving while Kubernetes changes it: rollouts, node drains, pod shutdown.

Mutants killed here: maxUnavailable during a rollout, a PDB that allows every eviction, one
replica per colour, no drain (verification/mutants/catalog/charts.yaml).
"""

import pytest

from verification.models.delivery import chart as bg
from verification.models.workloads import availability

KEYS = [(app, env, "blue") for env in bg.environments() for app in bg.apps(env)]


@pytest.mark.parametrize("key", KEYS, ids=["-".join(k[:2]) for k in KEYS])
def test_colours_keep_serving_through_rollouts_drains_and_shutdown(
    chart_renders: dict[tuple[str, str, str], bg.Render], key: tuple[str, str, str]
) -> None:
    problems = availability.violations(chart_renders[key])
    assert not problems, "\n".join(problems)
