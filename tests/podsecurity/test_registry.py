"""The check table equals upstream's, and levels, versions and namespace labels parse as upstream."""

import pytest

from verification.models.podsecurity import (
    BY_ID,
    CHECKS,
    LATEST,
    LevelVersion,
    Version,
    checks_at,
    enforced,
    forbidden_message,
    namespace_levels,
    namespace_policies,
    pod_spec_of,
    pod_template_of,
    violations,
)

# Hand-copied from policy/check_*.go of k8s.io/pod-security-admission v0.33.13: ID, level, minimum
# version of each revision, and the baseline checks a restricted revision overrides.
UPSTREAM = {
    "allowPrivilegeEscalation": ("restricted", [8, 25], ()),
    "appArmorProfile": ("baseline", [0], ()),
    "capabilities_baseline": ("baseline", [0], ()),
    "capabilities_restricted": ("restricted", [22, 25], ("capabilities_baseline",)),
    "hostNamespaces": ("baseline", [0], ()),
    "hostPathVolumes": ("baseline", [0], ()),
    "hostPorts": ("baseline", [0], ()),
    "privileged": ("baseline", [0], ()),
    "procMount": ("baseline", [0], ()),
    "restrictedVolumes": ("restricted", [0], ("hostPathVolumes",)),
    "runAsNonRoot": ("restricted", [0], ()),
    "runAsUser": ("restricted", [23], ()),
    "seLinuxOptions": ("baseline", [0, 31], ()),
    "seccompProfile_baseline": ("baseline", [0, 19], ()),
    "seccompProfile_restricted": ("restricted", [19, 25], ("seccompProfile_baseline",)),
    "sysctls": ("baseline", [0, 27, 29, 32], ()),
    "windowsHostProcess": ("baseline", [0], ()),
}


def test_table_equals_upstream() -> None:
    ours = {
        c.id: (
            c.level,
            [r.minimum.minor for r in c.versions],
            tuple(sorted({o for r in c.versions for o in r.overrides})),
        )
        for c in CHECKS
    }
    assert ours == UPSTREAM
    for check in CHECKS:
        assert check.upstream.startswith("https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/")
        assert all(r.minimum.major == 1 for r in check.versions)


def ids(level: str, version: Version) -> list[str]:
    return [c.id for c, _ in checks_at(LevelVersion(level, version))]


def test_checks_in_force_at_latest() -> None:
    assert ids("privileged", LATEST) == []
    baseline = [
        "appArmorProfile", "capabilities_baseline", "hostNamespaces", "hostPathVolumes", "hostPorts", "privileged",
        "procMount", "seLinuxOptions", "seccompProfile_baseline", "sysctls", "windowsHostProcess",
    ]  # fmt: skip
    assert ids("baseline", LATEST) == baseline
    assert ids("restricted", LATEST) == [
        "appArmorProfile", "hostNamespaces", "hostPorts", "privileged", "procMount", "seLinuxOptions", "sysctls",
        "windowsHostProcess", "allowPrivilegeEscalation", "capabilities_restricted", "restrictedVolumes",
        "runAsNonRoot", "runAsUser", "seccompProfile_restricted",
    ]  # fmt: skip
    assert ids("restricted", Version(1, 33)) == ids("restricted", LATEST) == ids("restricted", Version(1, 99))


def test_checks_in_force_at_old_versions() -> None:
    assert ids("restricted", Version(1, 7)) == [
        "appArmorProfile", "capabilities_baseline", "hostNamespaces", "hostPorts", "privileged", "procMount",
        "seLinuxOptions", "seccompProfile_baseline", "sysctls", "windowsHostProcess", "restrictedVolumes",
        "runAsNonRoot",
    ]  # fmt: skip
    assert BY_ID["sysctls"].at(Version(1, 28)).minimum == Version(1, 27)
    assert BY_ID["runAsUser"].at(Version(1, 22)) is None


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (None, ("privileged", LATEST)),
        ({}, ("privileged", LATEST)),
        ({"pod-security.kubernetes.io/enforce": "restricted"}, ("restricted", LATEST)),
        ({"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/enforce-version": "v1.33"},
         ("baseline", Version(1, 33))),
        ({"pod-security.kubernetes.io/enforce": "strict"}, ("restricted", LATEST)),  # invalid level: fail closed
        ({"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/enforce-version": "1.33"},
         ("baseline", LATEST)),  # invalid version: latest
        ({"pod-security.kubernetes.io/enforce-version": "v1.20"}, ("privileged", Version(1, 20))),
        ({"pod-security.kubernetes.io/warn": "restricted"}, ("privileged", LATEST)),  # warn/audit do not enforce
    ],
)  # fmt: skip
def test_enforced_policy_from_namespace_labels(labels: dict | None, expected: tuple) -> None:
    assert enforced(labels) == expected


def test_namespace_levels_and_policies() -> None:
    labels = {"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "v1.33"}
    objects = [
        {"kind": "Namespace", "metadata": {"name": "a", "labels": labels}},
        {"kind": "Namespace", "metadata": {"name": "b"}},
        {"kind": "ConfigMap", "metadata": {"name": "c"}},
    ]  # fmt: skip
    assert namespace_levels(objects) == {"a": "restricted", "b": "privileged"}
    assert namespace_policies(objects)["a"] == LevelVersion("restricted", Version(1, 33))
    assert str(namespace_policies(objects)["a"]) == "restricted:v1.33"


def test_unknown_level_or_version_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown Pod Security level"):
        violations({}, "strict")
    with pytest.raises(ValueError, match="unknown Pod Security version"):
        violations({}, "baseline", "1.33")


def test_forbidden_message_is_the_admission_error_text() -> None:
    spec = {"containers": [{"name": "probe", "securityContext": {"privileged": True}}]}
    assert forbidden_message(spec, "baseline") == (
        'violates PodSecurity "baseline:latest": privileged (container "probe" must not set '
        "securityContext.privileged=true)"
    )
    assert forbidden_message(spec, "privileged") is None
    assert forbidden_message(spec, "restricted", "v1.33").startswith('violates PodSecurity "restricted:v1.33": ')


def test_pod_templates_of_workloads() -> None:
    template = {"metadata": {"annotations": {"a": "b"}}, "spec": {"containers": []}}
    cron = {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": template}}}}
    assert pod_template_of(cron) == template
    assert pod_spec_of(cron) == {"containers": []}
    assert pod_spec_of({"kind": "Deployment", "spec": {}}) == {}
    assert pod_spec_of({"kind": "Pod", "spec": {"containers": []}}) == {"containers": []}
    assert pod_spec_of({"kind": "Service", "spec": {}}) is None
