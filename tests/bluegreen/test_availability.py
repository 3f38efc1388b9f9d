"""The availability checks on hand-written renders: rollout, disruption budget, drain."""

from typing import Any

import pytest

from verification.models.delivery.chart import Render
from verification.models.workloads import availability


def _deployment(
    color: str, *, replicas: int = 2, rolling: dict | None = None, env: dict | None = None, pre_stop: int = 5
) -> dict:
    variables = {"DRAIN_DELAY_SECONDS": "5", "MAX_CONNECTION_AGE_SECONDS": "10", **(env or {})}
    container: dict[str, Any] = {"name": "app", "env": [{"name": k, "value": v} for k, v in variables.items()]}
    if pre_stop:
        container["lifecycle"] = {"preStop": {"sleep": {"seconds": pre_stop}}}
    return {
        "kind": "Deployment",
        "metadata": {"name": f"app-{color}"},
        "spec": {
            "replicas": replicas,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": rolling or {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {"metadata": {"labels": {"app": "app", "color": color}}, "spec": {"containers": [container]}},
        },
    }


def _pdb(color: str, **spec: Any) -> dict:
    selector = {"matchLabels": {"app": "app", "color": color}}
    return {"kind": "PodDisruptionBudget", "metadata": {"name": f"app-{color}"}, "spec": {**spec, "selector": selector}}


def _render(*objects: dict) -> Render:
    return Render("app", "staging", "blue", "staging", tuple(objects))


def test_platform_shape_passes() -> None:
    render = _render(
        _deployment("blue"), _deployment("green"), _pdb("blue", maxUnavailable=1), _pdb("green", maxUnavailable=1)
    )
    assert availability.violations(render) == []


@pytest.mark.parametrize(
    ("rolling", "taken"),
    [({"maxSurge": 0, "maxUnavailable": 1}, 1), ({"maxSurge": 1}, 0), ({"maxUnavailable": "50%"}, 1)],
)
def test_rollout_that_takes_serving_pods_away(rolling: dict, taken: int) -> None:
    problems = availability.check_rollout(_render(_deployment("blue", rolling=rolling)))
    if taken:  # the default maxUnavailable 25% of 2 replicas rounds down to 0
        assert problems == [
            f"Deployment app-blue: rollingUpdate.maxUnavailable {rolling['maxUnavailable']} takes {taken} "
            "serving pod(s) away before their replacements are ready; use maxUnavailable 0 with maxSurge >= 1"
        ]
    else:
        assert problems == []


@pytest.mark.parametrize(
    ("replicas", "spec", "expected"),
    [
        (
            2,
            {"maxUnavailable": "100%"},
            [
                "PodDisruptionBudget app-blue: maxUnavailable 100% lets a drain evict all 2 pod(s) "
                "of the blue colour at once"
            ],
        ),
        (
            2,
            {"minAvailable": 0},
            ["PodDisruptionBudget app-blue: minAvailable 0 lets a drain evict all 2 pod(s) of the blue colour at once"],
        ),
        (2, {"minAvailable": "50%"}, []),
        (
            1,
            {"maxUnavailable": 1},
            [
                "Deployment app-blue: 1 replica(s); a colour needs 2 to survive one eviction",
                "PodDisruptionBudget app-blue: maxUnavailable 1 lets a drain evict all 1 pod(s) "
                "of the blue colour at once",
            ],
        ),
    ],
)
def test_disruption_budget_that_allows_a_whole_colour(replicas: int, spec: dict, expected: list[str]) -> None:
    render = _render(_deployment("blue", replicas=replicas), _pdb("blue", **spec))
    assert availability.check_disruption_budget(render) == expected


def test_no_drain_and_no_prestop_are_named() -> None:
    problems = availability.check_drain(_render(_deployment("blue", env={"DRAIN_DELAY_SECONDS": "0"}, pre_stop=0)))
    assert [p.split(":")[1].strip() for p in problems] == [
        "no preStop sleep",
        "DRAIN_DELAY_SECONDS 0",
        "preStop 0s + drain 0s < MAX_CONNECTION_AGE_SECONDS 10",
    ]


def test_connection_age_beyond_prestop_plus_drain() -> None:
    render = _render(_deployment("blue", env={"MAX_CONNECTION_AGE_SECONDS": "11"}))  # 5 + 5 < 11
    assert availability.check_drain(render) == [
        "Deployment app-blue: preStop 5s + drain 5s < MAX_CONNECTION_AGE_SECONDS 11: a connection opened just before "
        "endpoint removal is still open when the process exits"
    ]


def test_a_repeated_env_name_is_read_as_the_kubelet_reads_it_the_last_one_wins() -> None:
    deployment = _deployment("blue")
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    env.append({"name": "DRAIN_DELAY_SECONDS", "value": "0"})  # overrides the 5 before it
    assert "DRAIN_DELAY_SECONDS 0" in " ".join(availability.check_drain(_render(deployment)))
