"""The chart checks on hand-written objects: each rule alone, with the sentence it prints."""

import copy
from typing import Any

import pytest

from verification.models.delivery import chart as bg


def _deployment(color: str, **pod_spec: Any) -> dict[str, Any]:
    container = {
        "name": "app",
        "image": "registry.example.local/platform/sample-app:1.0.0",
        "ports": [
            {"name": "http", "containerPort": 8080, "protocol": "TCP"},
            {"name": "metrics", "containerPort": 9100, "protocol": "TCP"},
        ],
        "env": [
            {"name": "APP_VERSION", "value": "1.0.0"},
            {"name": "APP_COLOR", "value": color},
            {"name": "HTTP_PORT", "value": "8080"},
            {"name": "METRICS_PORT", "value": "9100"},
            {"name": "DRAIN_DELAY_SECONDS", "value": "5"},
            {"name": "MAX_CONNECTION_AGE_SECONDS", "value": "10"},
            {"name": "FAULT_INJECTION", "value": "disabled"},
            {"name": "LOG_LEVEL", "value": "info"},
        ],
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
        "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    spec = {
        "serviceAccountName": "sample-app",
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": 30,
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
        **pod_spec,
    }
    labels = {
        "app.kubernetes.io/name": "sample-app",
        "app.kubernetes.io/part-of": "devops-platform",
        "app.kubernetes.io/version": "1.0.0",
        "color": color,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"sample-app-{color}"},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "sample-app", "color": color}},
            "template": {"metadata": {"labels": labels}, "spec": spec},
        },
    }


def _service(name: str, selector: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "sample-app"}},
        "spec": {"selector": selector, "ports": [{"name": "http", "port": 8080}, {"name": "metrics", "port": 9100}]},
    }


def _pdb(color: str) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": f"sample-app-{color}"},
        "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": "sample-app", "color": color}}},
    }


def _monitor() -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "sample-app"},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "sample-app"}},
            "endpoints": [
                {
                    "port": "metrics",
                    "interval": "15s",
                    "scrapeTimeout": "10s",
                    "relabelings": [{"targetLabel": t} for t in ("env", "app", "color", "version")],
                }
            ],
        },
    }


def good(env: str = "test") -> bg.Render:
    """A release with blue active, as the chart should render it."""
    sel = {"app.kubernetes.io/name": "sample-app"}
    objects = (
        _deployment("blue"),
        _deployment("green"),
        _service("sample-app", {**sel, "color": "blue"}),
        _service("sample-app-preview", {**sel, "color": "green"}),
        _pdb("blue"),
        _pdb("green"),
        _monitor(),
    )
    return bg.Render("sample-app", env, "blue", env, objects)


def edited(r: bg.Render, kind: str, name: str, edit: Any) -> bg.Render:
    objects = copy.deepcopy(list(r.objects))
    for obj in objects:
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            edit(obj)
    return bg.Render(r.app, r.env, r.active, r.namespace, tuple(objects))


def container(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]["containers"][0]


def set_env(obj: dict[str, Any], name: str, value: str) -> None:
    for entry in container(obj)["env"]:
        if entry["name"] == name:
            entry["value"] = value


def test_the_good_release_passes_every_check() -> None:
    assert bg.violations(good()) == []
    assert bg.check_images(good(), expected="registry.example.local/platform/sample-app:1.0.0") == []


def test_selector_semantics() -> None:
    assert bg.selects({"a": "1"}, {"a": "1", "b": "2"})
    assert not bg.selects({"a": "1", "c": "3"}, {"a": "1", "b": "2"})
    assert not bg.selects({}, {"a": "1"})  # a Service without selector selects no pods
    assert not bg.selects(None, {"a": "1"})


def test_active_service_on_the_idle_colour() -> None:
    r = edited(good(), "Service", "sample-app", lambda s: s["spec"]["selector"].update(color="green"))
    assert bg.check_services_select_one_colour(r) == [
        "Service sample-app (active) must select exactly sample-app-blue's pods (activeColor=blue); "
        "it selects sample-app-green: selector {'app.kubernetes.io/name': 'sample-app', 'color': 'green'}"
    ]


def test_missing_preview_service() -> None:
    r = bg.Render(
        "sample-app",
        "test",
        "blue",
        "test",
        tuple(o for o in good().objects if o["metadata"]["name"] != "sample-app-preview" or o["kind"] != "Service"),
    )
    assert bg.check_services_select_one_colour(r) == ["Service sample-app-preview is missing"]


def test_extra_service_selecting_both_colours_is_caught() -> None:
    extra = _service("sample-app-all", {"app.kubernetes.io/name": "sample-app"})
    r = bg.Render("sample-app", "test", "blue", "test", (*good().objects, extra))
    assert bg.check_services_select_one_colour(r) == [
        "Service sample-app-all selects both colours (sample-app-blue, sample-app-green): "
        "selector {'app.kubernetes.io/name': 'sample-app'}"
    ]


def test_deployment_selector_that_also_selects_the_other_colour() -> None:
    r = edited(good(), "Deployment", "sample-app-blue", lambda d: d["spec"]["selector"]["matchLabels"].pop("color"))
    assert bg.check_selectors_match_labels(r) == [
        "Deployment sample-app-blue: selector {'app.kubernetes.io/name': 'sample-app'} "
        "also selects the pods of sample-app-green"
    ]


def test_probe_on_an_undeclared_port_and_wrong_path() -> None:
    def edit(d: dict[str, Any]) -> None:
        container(d)["livenessProbe"] = {"httpGet": {"path": "/", "port": 8081}}

    r = edited(good(), "Deployment", "sample-app-green", edit)
    assert bg.check_probes(r) == [
        "Deployment sample-app-green container app: livenessProbe port 8081 is not a container port",
        "Deployment sample-app-green container app: livenessProbe must GET /healthz, not '/'",
    ]


def test_numeric_probe_port_that_is_declared_passes() -> None:
    r = edited(
        good(), "Deployment", "sample-app-blue", lambda d: container(d)["readinessProbe"]["httpGet"].update(port=8080)
    )
    assert bg.check_probes(r) == []


def test_pod_security_and_hardening() -> None:
    def edit(d: dict[str, Any]) -> None:
        container(d)["securityContext"] = {"allowPrivilegeEscalation": True, "capabilities": {"drop": ["ALL"]}}
        container(d)["volumeMounts"].append({"name": "tmp", "mountPath": "/data"})
        d["spec"]["template"]["spec"]["automountServiceAccountToken"] = True

    r = edited(good(), "Deployment", "sample-app-blue", edit)
    assert bg.check_pod_security(r) == [
        'Deployment sample-app-blue: allowPrivilegeEscalation != false (container "app" must set '
        "securityContext.allowPrivilegeEscalation=false)",
        "Deployment sample-app-blue: automountServiceAccountToken must be false",
        "Deployment sample-app-blue container app: readOnlyRootFilesystem must be true",
        "Deployment sample-app-blue container app: writable mount /data (only an emptyDir at /tmp)",
    ]


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("registry.example.local/platform/sample-app:latest", "uses the latest tag"),
        ("registry.example.local/platform/sample-app", "has no tag"),
        ("registry.example.local:5000/platform/sample-app", "has no tag"),  # a registry port is no tag
    ],
)
def test_unpinned_images(ref: str, message: str) -> None:
    r = edited(good(), "Deployment", "sample-app-blue", lambda d: container(d).update(image=ref))
    assert bg.check_images(r) == [f"Deployment sample-app-blue container app: image {ref!r} {message}"]


def test_digest_is_pinned_but_differs_from_versions() -> None:
    ref = "registry.example.local/platform/sample-app@sha256:" + "0" * 64
    r = edited(good(), "Deployment", "sample-app-blue", lambda d: container(d).update(image=ref))
    assert bg.check_images(r) == []
    assert bg.check_images(r, expected="registry.example.local/platform/sample-app:1.0.0") == [
        f"Deployment sample-app-blue container app: image {ref!r} differs from platform/versions.yaml "
        "(registry.example.local/platform/sample-app:1.0.0)"
    ]


def test_grace_period_equal_to_prestop_plus_drain_is_too_short() -> None:
    r = edited(
        good(),
        "Deployment",
        "sample-app-blue",
        lambda d: d["spec"]["template"]["spec"].update(terminationGracePeriodSeconds=10),
    )
    assert bg.check_shutdown_timing(r) == [
        "Deployment sample-app-blue: terminationGracePeriodSeconds 10 must exceed preStop sleep 5s "
        "+ DRAIN_DELAY_SECONDS 5s, or the drain is cut short by SIGKILL"
    ]


def test_grace_period_defaults_to_thirty_seconds() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["spec"]["template"]["spec"].pop("terminationGracePeriodSeconds")
        set_env(d, "DRAIN_DELAY_SECONDS", "25")

    assert bg.check_shutdown_timing(edited(good(), "Deployment", "sample-app-blue", edit)) == [
        "Deployment sample-app-blue: terminationGracePeriodSeconds 30 must exceed preStop sleep 5s "
        "+ DRAIN_DELAY_SECONDS 25s, or the drain is cut short by SIGKILL"
    ]


def test_runtime_contract() -> None:
    def edit(d: dict[str, Any]) -> None:
        set_env(d, "APP_COLOR", "blue")
        set_env(d, "APP_VERSION", "1.1.0")
        set_env(d, "FAULT_INJECTION", "enabled")

    r = edited(good("staging"), "Deployment", "sample-app-green", edit)
    assert bg.check_runtime_contract(r) == [
        "Deployment sample-app-green: APP_COLOR='blue' on the green colour",
        "Deployment sample-app-green: APP_VERSION='1.1.0' but pod label version='1.0.0'",
        "Deployment sample-app-green: FAULT_INJECTION is enabled in staging, where it must never be",
    ]
    # the same fault switch is allowed in test
    assert (
        bg.check_runtime_contract(
            edited(good("test"), "Deployment", "sample-app-green", lambda d: set_env(d, "FAULT_INJECTION", "enabled"))
        )
        == []
    )


def test_service_monitor_timeout_and_relabelling() -> None:
    def edit(m: dict[str, Any]) -> None:
        endpoint = m["spec"]["endpoints"][0]
        endpoint["scrapeTimeout"] = "15s"
        endpoint["relabelings"] = endpoint["relabelings"][:2]

    r = edited(good(), "ServiceMonitor", "sample-app", edit)
    assert bg.check_service_monitor(r) == [
        "ServiceMonitor sample-app: scrapeTimeout 15s is not below interval",
        "ServiceMonitor sample-app: relabelings do not set color, version",
    ]


def test_node_port_only_in_e2e_and_only_active() -> None:
    def nodeport(s: dict[str, Any]) -> None:
        s["spec"]["type"] = "NodePort"

    assert bg.check_node_port(edited(good("test"), "Service", "sample-app", nodeport)) == [
        "Service sample-app: type NodePort outside the e2e profile"
    ]
    assert bg.check_node_port(edited(good("e2e"), "Service", "sample-app", nodeport)) == []
    assert bg.check_node_port(edited(good("e2e"), "Service", "sample-app-preview", nodeport)) == [
        "Service sample-app-preview: only the active Service sample-app may be a NodePort"
    ]


def test_intent_workloads() -> None:
    ports = [{"name": "http", "port": 8080, "protocol": "TCP"}, {"name": "metrics", "port": 9100, "protocol": "TCP"}]
    labels = {"app.kubernetes.io/name": "sample-app", "app.kubernetes.io/part-of": "devops-platform"}
    workloads = [
        {"namespace": "test", "name": "sample-app-blue", "labels": {**labels, "color": "blue"}, "ports": ports},
        {"namespace": "test", "name": "sample-app-green", "labels": {**labels, "color": "green"}, "ports": ports[:1]},
    ]
    assert bg.check_intent_workloads(good(), workloads) == [
        "intent workload test/sample-app-green: ports [('http', 8080, 'TCP')] != the pods' "
        "[('http', 8080, 'TCP'), ('metrics', 9100, 'TCP')]"
    ]
    assert bg.check_intent_workloads(good(), workloads[:1]) == [
        "intent workloads: no entry for sample-app (green) in namespace test"
    ]


def test_switch_must_not_touch_deployments() -> None:
    a = good()
    b = edited(
        a, "Deployment", "sample-app-blue", lambda d: d["spec"]["template"]["metadata"]["labels"].update(active="yes")
    )
    assert bg.check_switch_changes_only_services(a, a) == []
    assert bg.check_switch_changes_only_services(a, b) == ["Deployment sample-app-blue changes when activeColor flips"]


def test_other_colour() -> None:
    assert bg.other("blue") == "green"
    assert bg.other("green") == "blue"
    with pytest.raises(bg.UserError, match="unknown colour 'red'"):
        bg.other("red")


def test_versions_pin_one_colour_and_the_repository_of_both(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bg, "image", lambda app: f"registry.example.local:5000/platform/{app}:1.1.0")
    both_old = edited(
        good(),
        "Deployment",
        "sample-app-green",
        lambda d: container(d).update(image="registry.example.local:5000/platform/sample-app:1.0.0"),
    )
    both_old = edited(
        both_old,
        "Deployment",
        "sample-app-blue",
        lambda d: container(d).update(image="registry.example.local:5000/platform/sample-app:1.0.0"),
    )
    assert bg.check_image_pinned_in_versions(both_old) == [
        "neither colour runs images.sample-app of platform/versions.yaml "
        "(registry.example.local:5000/platform/sample-app:1.1.0): "
        "blue registry.example.local:5000/platform/sample-app:1.0.0, "
        "green registry.example.local:5000/platform/sample-app:1.0.0"
    ]
    candidate = edited(
        both_old,
        "Deployment",
        "sample-app-green",
        lambda d: container(d).update(image="registry.example.local:5000/platform/sample-app:1.1.0"),
    )
    assert bg.check_image_pinned_in_versions(candidate) == []
    elsewhere = edited(
        candidate,
        "Deployment",
        "sample-app-blue",
        lambda d: container(d).update(image="docker.io/other/sample-app:1.0.0"),
    )
    assert bg.check_image_pinned_in_versions(elsewhere) == [
        "Deployment sample-app-blue: image 'docker.io/other/sample-app:1.0.0' is not from "
        "registry.example.local:5000/platform/sample-app (platform/versions.yaml)"
    ]
