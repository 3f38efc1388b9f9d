"""The plan of a flip: only what follows from activeColor may change (verification/bluegreen/plan.py).

Hand-written objects for each kind of refused difference, real renders of the chart for the
allowed flip, and hypothesis properties: any non-colour change to a rendered object is refused,
a colour flip alone is allowed.
"""

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verification.bluegreen import release
from verification.bluegreen.plan import ABSENT, OBJECT, Plan, classify, diff, flatten, flatten_objects
from verification.models.delivery import chart
from verification.models.delivery.chart import deep_merge

APPS_ENVS = [(app, env) for env in ("e2e", "test", "staging") for app in ("sample-app", "sample2-app")]


@pytest.fixture(scope="module")
def renders() -> dict[tuple[str, str, str], chart.Render]:
    keys = [(app, env, color) for app, env in APPS_ENVS for color in chart.COLORS]
    return chart.render_many(keys)


@pytest.fixture(scope="module")
def flats(renders: dict) -> dict[tuple[str, str, str], dict[str, dict[str, Any]]]:
    return {key: flatten_objects(r.objects) for key, r in renders.items()}


def plan_of(live: list[dict], planned: list[dict], planned_other: list[dict]) -> Plan:
    plan = Plan("sample-app", "switch", "green")
    plan.changes = classify(flatten_objects(live), flatten_objects(planned), flatten_objects(planned_other))
    return plan


# --- flatten -------------------------------------------------------------------------------


def test_flatten_keys_named_lists_by_name_and_keeps_scalar_lists_whole() -> None:
    obj = {
        "spec": {
            "containers": [{"name": "app", "env": [{"name": "LOG_LEVEL", "value": "info"}], "args": ["a", "b"]}],
            "tolerations": [{"key": "x"}, {"key": "y"}],
            "empty": {},
        }
    }
    assert flatten(obj) == {
        "spec.containers[app].env[LOG_LEVEL].value": "info",
        "spec.containers[app].args": ["a", "b"],
        "spec.tolerations[0].key": "x",
        "spec.tolerations[1].key": "y",
    }


def test_diff_lists_added_removed_and_changed_fields_and_objects() -> None:
    live = {"Service/a": {"spec.type": "NodePort", "spec.ports[http].nodePort": 30080}, "ConfigMap/old": {"x": 1}}
    planned = {"Service/a": {"spec.type": "ClusterIP"}, "ConfigMap/new": {"x": 1}}
    assert diff(live, planned) == [
        ("ConfigMap/new", OBJECT, ABSENT, "created"),
        ("ConfigMap/old", OBJECT, "exists", "deleted"),
        ("Service/a", "spec.ports[http].nodePort", 30080, ABSENT),
        ("Service/a", "spec.type", "NodePort", "ClusterIP"),
    ]
    # Against live objects, fields the server added and the object's own metadata are not differences.
    live_obj = {"Service/a": {"spec.type": "ClusterIP", "spec.clusterIP": "10.0.0.1", "metadata.uid": "u"}}
    assert diff(live_obj, {"Service/a": {"spec.type": "ClusterIP", "metadata.labels.x": "y"}}, subset=True) == []


# --- hand-checked cases on the real chart ---------------------------------------------------


def _objects(r: chart.Render) -> list[dict]:
    return copy.deepcopy(list(r.objects))


def _find(objects: list[dict], kind: str, name: str) -> dict:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def test_a_flip_of_the_same_values_changes_only_the_service_selectors(renders: dict) -> None:
    blue, green = renders[("sample-app", "e2e", "blue")], renders[("sample-app", "e2e", "green")]
    plan = plan_of(_objects(blue), _objects(green), _objects(blue))
    assert plan.allowed
    assert {(c.obj, c.path, c.live, c.planned) for c in plan.changes} == {
        ("Service/sample-app", "spec.selector.color", "blue", "green"),
        ("Service/sample-app-preview", "spec.selector.color", "green", "blue"),
    }


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            lambda o: _find(o, "Service", "sample-app")["spec"].update(type="ClusterIP"),
            ("Service/sample-app", "spec.type", "NodePort", "ClusterIP"),
            id="service-type",
        ),
        pytest.param(
            lambda o: _find(o, "Service", "sample-app")["spec"]["ports"][0].update(port=80),
            ("Service/sample-app", "spec.ports[http].port", 8080, 80),
            id="service-port",
        ),
        pytest.param(
            lambda o: _find(o, "Deployment", "sample-app-green")["spec"]["template"]["spec"]["containers"][0][
                "env"
            ].append({"name": "NEW", "value": "1"}),
            ("Deployment/sample-app-green", "spec.template.spec.containers[app].env[NEW].value", ABSENT, "1"),
            id="idle-pod-template",
        ),
        pytest.param(
            lambda o: _find(o, "PodDisruptionBudget", "sample-app-blue")["spec"].update(maxUnavailable=0),
            ("PodDisruptionBudget/sample-app-blue", "spec.maxUnavailable", 1, 0),
            id="pdb",
        ),
        pytest.param(
            lambda o: o.append(
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "1"}}
            ),
            ("ConfigMap/cfg", OBJECT, ABSENT, "created"),
            id="configmap-added",
        ),
    ],
)
def test_every_other_difference_is_refused(renders: dict, edit: Any, expected: tuple) -> None:
    """The planned release (both colour renders: a values or chart change) differs beyond the colour."""
    blue, green = renders[("sample-app", "e2e", "blue")], renders[("sample-app", "e2e", "green")]
    planned, planned_other = _objects(green), _objects(blue)
    edit(planned)
    edit(planned_other)
    plan = plan_of(_objects(blue), planned, planned_other)
    assert not plan.allowed
    assert {(c.obj, c.path, c.live, c.planned) for c in plan.refused} == {expected}
    assert len([c for c in plan.changes if c.colour]) == 2  # the selector flips are still shown as allowed


def test_a_changed_configmap_and_a_live_selector_that_is_not_the_other_colour_are_refused() -> None:
    def objs(data: str, selector: str) -> list[dict]:
        return [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"k": data}},
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "s"},
                "spec": {"selector": {"color": selector}},
            },
        ]

    plan = plan_of(objs("old", "green"), objs("new", "green"), objs("new", "blue"))
    # green -> green is no change; the ConfigMap's data is.
    assert [(c.obj, c.path, c.colour) for c in plan.changes] == [("ConfigMap/cfg", "data.k", False)]
    # The live Service selects something no colour render has: not the colour's doing.
    plan = plan_of(objs("new", "purple"), objs("new", "green"), objs("new", "blue"))
    assert [(c.obj, c.path, c.live, c.colour) for c in plan.changes] == [
        ("Service/s", "spec.selector.color", "purple", False)
    ]


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_a_colour_flip_alone_is_allowed(flats: dict, data: st.DataObject) -> None:
    app, env = data.draw(st.sampled_from(APPS_ENVS))
    active = data.draw(st.sampled_from(chart.COLORS))
    plan = Plan(app, "switch", chart.other(active))
    plan.changes = classify(*(flats[(app, env, c)] for c in (active, chart.other(active), active)))
    assert plan.allowed and plan.changes and all(c.colour for c in plan.changes)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_any_non_colour_change_is_refused(flats: dict, data: st.DataObject) -> None:
    """A leaf of any rendered object changed or removed, on the live side or in the planned release
    (both colour renders alike, as a values or chart change does), is a refused difference."""
    app, env = data.draw(st.sampled_from(APPS_ENVS))
    active = data.draw(st.sampled_from(chart.COLORS))
    live, planned, other = (dict(flats[(app, env, c)]) for c in (active, chart.other(active), active))
    obj = data.draw(st.sampled_from(sorted(live)))
    path = data.draw(st.sampled_from(sorted(live[obj])))
    new = data.draw(
        st.one_of(st.just(ABSENT), st.integers(), st.text(max_size=8)).filter(lambda v: v != live[obj][path])
    )
    side = data.draw(st.sampled_from(["live", "planned"]))
    if side == "live":
        live = {**live, obj: {**live[obj], path: new}}
    else:
        planned = {**planned, obj: {**planned[obj], path: new}}
        other = {**other, obj: {**other[obj], path: new}}
    for flat_obj in (live, planned, other):
        flat_obj[obj] = {p: v for p, v in flat_obj[obj].items() if v != ABSENT}
    plan = Plan(app, "switch", chart.other(active))
    plan.changes = classify(live, planned, other)
    if planned[obj].get(path, ABSENT) == live[obj].get(path, ABSENT):
        return  # the new value happens to be what the flip renders (a selector set to the new colour)
    assert not plan.allowed
    assert (obj, path) in {(c.obj, c.path) for c in plan.refused}


# --- the Helm release: what a switch compares ------------------------------------------------


def _deployed(monkeypatch: pytest.MonkeyPatch, env: str, colours: dict, extra: dict | None = None) -> None:
    """A release as `deploy` leaves it (stored values and manifest), without a cluster."""
    values = deep_merge(chart.merged_values("sample-app", env), {**colours, **(extra or {})})
    values["deployedWith"] = {"profile": env, "chart": release.chart_label()}
    manifest = chart.render("sample-app", env, colours["activeColor"], overrides=values).objects
    monkeypatch.setattr(release, "stored_values", lambda _t: copy.deepcopy(values))
    monkeypatch.setattr(release, "stored_manifest", lambda _t: copy.deepcopy(list(manifest)))


COLOURS = {
    "activeColor": "blue",
    "blue": {"tag": "1.0.0", "version": "1.0.0"},
    "green": {"tag": "1.0.0", "version": "1.1.0"},
}


def test_switch_of_an_unchanged_release_is_allowed_and_applies_the_stored_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _deployed(monkeypatch, "e2e", COLOURS)
    plan = release.plan_flip(release.Target("sample-app", "e2e", "test"), "switch", "green", "1.1.0")
    assert plan.allowed, plan.text()
    assert plan.values == {**plan.restore, "activeColor": "green"}
    assert plan.restore["deployedWith"]["profile"] == "e2e"
    assert plan.values["runtime"] == chart.merged_values("sample-app", "e2e")["runtime"]


def test_the_issue_scenario_e2e_deployed_switch_with_test_is_refused_with_the_differences(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _deployed(monkeypatch, "e2e", COLOURS)
    plan = release.plan_flip(release.Target("sample-app", "test", "test"), "switch", "green", "1.1.0")
    assert not plan.allowed
    assert plan.notes and "deployed with the e2e profile" in plan.notes[0] and "not test" in plan.notes[0]
    refused = {(c.obj, c.path): (c.live, c.planned) for c in plan.refused}
    assert refused[("Service/sample-app", "spec.type")] == ("NodePort", "ClusterIP")
    assert refused[("Deployment/sample-app-blue", "spec.template.spec.containers[app].env[LOG_LEVEL].value")] == (
        "info",
        "debug",
    )
    assert plan.summary() == plan.notes[0]


@pytest.fixture
def environments(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A copy of platform/environments the chart reads instead, free to edit."""
    copy_dir = tmp_path / "environments"
    shutil.copytree(chart.ENVIRONMENTS, copy_dir)
    monkeypatch.setattr(chart, "ENVIRONMENTS", copy_dir)
    return copy_dir


def _edit_drain_delay(environments: Path) -> None:
    """The e2e environment's shared values edited after the deploy: drainDelaySeconds 2 -> 4."""
    shared = environments / "e2e" / "values.yaml"
    shared.write_text(shared.read_text().replace("drainDelaySeconds: 2", "drainDelaySeconds: 4"))


def test_an_environment_file_edited_since_the_deploy_is_refused(
    monkeypatch: pytest.MonkeyPatch, environments: Path
) -> None:
    _deployed(monkeypatch, "e2e", COLOURS)
    _edit_drain_delay(environments)
    plan = release.plan_flip(release.Target("sample-app", "e2e", "test"), "switch", "green")
    assert not plan.allowed and not plan.notes
    assert {(c.obj, c.path, c.live, c.planned) for c in plan.refused} == {
        (f"Deployment/sample-app-{c}", "spec.template.spec.containers[app].env[DRAIN_DELAY_SECONDS].value", "2", "4")
        for c in chart.COLORS
    }
    assert "platform/environments/e2e != the release" in plan.summary()
    assert "platform-verify bluegreen deploy sample-app --env e2e" in plan.summary()
    # What the flip would apply is still the release's own values, not the edited file's.
    assert plan.values["runtime"]["drainDelaySeconds"] == 2


def test_values_given_at_deploy_must_be_given_to_the_switch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    extra = tmp_path / "no-drain.yaml"
    extra.write_text("runtime: {preStopSleepSeconds: 0}\n")
    _deployed(monkeypatch, "e2e", COLOURS, {"runtime": {"preStopSleepSeconds": 0}})
    without = release.plan_flip(release.Target("sample-app", "e2e", "test"), "switch", "green")
    assert {c.path for c in without.refused} == {"spec.template.spec.containers[app].lifecycle.preStop.sleep.seconds"}
    with_extra = release.plan_flip(
        release.Target("sample-app", "e2e", "test", extra_values=(str(extra),)), "switch", "green"
    )
    assert with_extra.allowed, with_extra.text()


# --- a deploy: the environment's values reach the idle colour only ---------------------------


def test_a_deploy_of_an_edited_environment_changes_the_idle_colour_only(
    monkeypatch: pytest.MonkeyPatch, environments: Path
) -> None:
    _deployed(monkeypatch, "e2e", COLOURS)  # blue active
    target = release.Target("sample-app", "e2e", "test")
    stored = release.stored_values(target)
    unchanged = release.pin_active(target, COLOURS, stored)
    assert "settings" not in unchanged["blue"] and "settings" not in unchanged["green"]

    _edit_drain_delay(environments)
    colours = {**COLOURS, "green": {"tag": "1.2.0", "version": "1.2.0"}}
    pinned = release.pin_active(target, colours, stored)
    assert pinned["blue"]["settings"]["runtime"]["drainDelaySeconds"] == 2  # what blue runs now
    assert "settings" not in pinned["green"]
    plan = release.plan_deploy(target, pinned)
    changed = {c.obj for c in plan.changes}
    assert changed == {"Deployment/sample-app-green"}, plan.text()
    assert ("spec.template.spec.containers[app].env[DRAIN_DELAY_SECONDS].value", "2", "4") in {
        (c.path, c.live, c.planned) for c in plan.changes
    }
    # Unpinned (what a deploy did before), the active colour would roll too.
    assert "Deployment/sample-app-blue" in {c.obj for c in release.plan_deploy(target, colours).changes}


def test_the_settings_a_colour_may_keep_are_the_schemas() -> None:
    assert set(release.settings_keys()) == {
        "replicas",
        "runtime",
        "probes",
        "resources",
        "tmpSizeLimit",
        "podDisruptionBudget",
    }
    values = {
        "replicas": 2,
        "runtime": {"logLevel": "info", "drainDelaySeconds": 2},
        "blue": {"settings": {"runtime": {"logLevel": "warn"}}},
    }
    assert release.settings_of(values, "blue") == {
        "replicas": 2,
        "runtime": {"logLevel": "warn", "drainDelaySeconds": 2},
    }
    assert release.settings_of(values, "green") == {
        "replicas": 2,
        "runtime": {"logLevel": "info", "drainDelaySeconds": 2},
    }
