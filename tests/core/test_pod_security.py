"""Pod Security model against hand-checked cases from the Pod Security Standards."""

import copy

import pytest

from verification.models.pod_security import namespace_levels, pod_spec_of, violations

RESTRICTED_OK = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [
        {
            "name": "app",
            "image": "x:1",
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        }
    ],
    "volumes": [{"name": "tmp", "emptyDir": {}}],
}


def mutate(path: list, value) -> dict:
    spec = copy.deepcopy(RESTRICTED_OK)
    node = spec
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return spec


def test_compliant_spec_passes_every_level() -> None:
    for level in ("privileged", "baseline", "restricted"):
        assert violations(RESTRICTED_OK, level) == []


@pytest.mark.parametrize(
    ("path", "value", "level", "expected_fragment"),
    [
        (["hostNetwork"], True, "baseline", "hostNetwork"),
        (["hostPID"], True, "baseline", "hostPID"),
        (["containers", 0, "securityContext", "privileged"], True, "baseline", "privileged"),
        (["containers", 0, "securityContext", "capabilities", "add"], ["SYS_ADMIN"], "baseline", "SYS_ADMIN"),
        (["volumes"], [{"name": "h", "hostPath": {"path": "/"}}], "baseline", "hostPath"),
        (["containers", 0, "ports"], [{"containerPort": 80, "hostPort": 80}], "baseline", "hostPort"),
        (["securityContext", "seccompProfile"], {"type": "Unconfined"}, "baseline", "Unconfined"),
        (["securityContext", "runAsNonRoot"], False, "restricted", "runAsNonRoot"),
        (
            ["containers", 0, "securityContext", "allowPrivilegeEscalation"],
            True,
            "restricted",
            "allowPrivilegeEscalation",
        ),
        (["containers", 0, "securityContext", "capabilities"], {}, "restricted", "drop ALL"),
        (["containers", 0, "securityContext", "capabilities", "add"], ["NET_RAW"], "restricted", "NET_RAW"),
        (["volumes"], [{"name": "n", "nfs": {"server": "s", "path": "/"}}], "restricted", "nfs"),
        (["securityContext"], {"runAsNonRoot": True}, "restricted", "seccompProfile"),
        (["securityContext", "runAsUser"], 0, "restricted", "runAsUser 0"),
    ],
)
def test_each_rule_rejects_its_violation(path, value, level, expected_fragment) -> None:
    found = violations(mutate(path, value), level)
    assert any(expected_fragment in reason for reason in found), found


def test_restricted_only_rules_do_not_apply_at_baseline() -> None:
    spec = mutate(["securityContext", "runAsNonRoot"], False)
    assert violations(spec, "baseline") == []


def test_container_level_settings_satisfy_restricted_without_pod_level() -> None:
    spec = copy.deepcopy(RESTRICTED_OK)
    spec["securityContext"] = {}
    spec["containers"][0]["securityContext"].update(runAsNonRoot=True, seccompProfile={"type": "Localhost"})
    assert violations(spec, "restricted") == []


def test_net_bind_service_may_be_added_under_restricted() -> None:
    spec = mutate(["containers", 0, "securityContext", "capabilities", "add"], ["NET_BIND_SERVICE"])
    assert violations(spec, "restricted") == []


def test_init_containers_are_checked_too() -> None:
    spec = copy.deepcopy(RESTRICTED_OK)
    spec["initContainers"] = [{"name": "init", "image": "x:1"}]
    assert any("initContainer init" in r for r in violations(spec, "restricted"))


def test_pod_spec_of_finds_templates() -> None:
    cron = {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}}}}
    assert pod_spec_of(cron) == {"containers": []}
    assert pod_spec_of({"kind": "Service", "spec": {}}) is None


def test_namespace_levels_default_to_privileged_without_label() -> None:
    objects = [
        {
            "kind": "Namespace",
            "metadata": {"name": "a", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}},
        },
        {"kind": "Namespace", "metadata": {"name": "b"}},
    ]
    assert namespace_levels(objects) == {"a": "restricted", "b": "privileged"}


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown Pod Security level"):
        violations(RESTRICTED_OK, "strict")
