"""Every upstream Pod Security check, hand-checked against k8s.io/pod-security-admission v0.33.13.

Each case names the check ID that must fail and upstream's exact detail text (the words the
admission error prints), at pod level and for init, regular and ephemeral containers, with
explicit false/0, absent and conflicting pod/container values.
"""

import copy
from typing import Any

import pytest

from verification.models.podsecurity import check_pod, violations

# Where a container lives, and the name the compliant pod gives it there.
SLOTS = [("initContainers", "init"), ("containers", "app"), ("ephemeralContainers", "debug")]


def container(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "image": "x:1",
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    }


def compliant() -> dict[str, Any]:
    """Restricted at every version: pod-level runAsNonRoot and seccomp, hardened containers of all three kinds."""
    return {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "initContainers": [container("init")],
        "containers": [container("app")],
        "ephemeralContainers": [container("debug")],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }


def failing(spec: dict[str, Any], level: str = "restricted", version: str = "latest", **kw: Any) -> dict[str, str]:
    return {cid: result.detail for cid, result in check_pod(spec, level, version, **kw)}


def with_container(kind: str, **security: Any) -> dict[str, Any]:
    spec = compliant()
    spec[kind][0]["securityContext"].update(security)
    return spec


def with_pod(**security: Any) -> dict[str, Any]:
    spec = compliant()
    spec["securityContext"].update(security)
    return spec


def test_compliant_pod_passes_every_level_and_version() -> None:
    for level in ("privileged", "baseline", "restricted"):
        for version in ("v1.0", "v1.18", "v1.22", "v1.25", "v1.31", "v1.33", "latest"):
            assert failing(compliant(), level, version) == {}


# --- runAsNonRoot: the false pass of the old model -------------------------------------------------


def test_pod_level_false_is_rejected_even_when_every_container_says_true() -> None:
    spec = with_pod(runAsNonRoot=False)
    for kind, _ in SLOTS:
        spec[kind][0]["securityContext"]["runAsNonRoot"] = True
    assert failing(spec) == {"runAsNonRoot": "pod must not set securityContext.runAsNonRoot=false"}
    assert violations(spec, "restricted") == [
        "runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)"
    ]
    assert failing(spec, "baseline") == {}


@pytest.mark.parametrize(("kind", "name"), SLOTS)
def test_container_false_is_rejected_although_the_pod_says_true(kind: str, name: str) -> None:
    assert failing(with_container(kind, runAsNonRoot=False)) == {
        "runAsNonRoot": f'container "{name}" must not set securityContext.runAsNonRoot=false'
    }


def test_pod_and_container_false_are_both_named() -> None:
    spec = with_pod(runAsNonRoot=False)
    spec["containers"][0]["securityContext"]["runAsNonRoot"] = False
    spec["ephemeralContainers"][0]["securityContext"]["runAsNonRoot"] = False
    assert failing(spec)["runAsNonRoot"] == (
        'pod and containers "app", "debug" must not set securityContext.runAsNonRoot=false'
    )


@pytest.mark.parametrize(("kind", "name"), SLOTS)
def test_absent_at_pod_level_needs_true_on_every_container(kind: str, name: str) -> None:
    spec = compliant()
    del spec["securityContext"]["runAsNonRoot"]
    for other, _ in SLOTS:
        spec[other][0]["securityContext"]["runAsNonRoot"] = True
    assert failing(spec) == {}
    del spec[kind][0]["securityContext"]["runAsNonRoot"]
    assert failing(spec) == {"runAsNonRoot": f'pod or container "{name}" must set securityContext.runAsNonRoot=true'}


def test_explicit_false_is_reported_before_the_containers_that_leave_it_unset() -> None:
    spec = compliant()
    del spec["securityContext"]["runAsNonRoot"]
    spec["containers"][0]["securityContext"]["runAsNonRoot"] = False
    assert failing(spec)["runAsNonRoot"] == 'container "app" must not set securityContext.runAsNonRoot=false'


def test_null_is_absent() -> None:
    spec = with_pod(runAsNonRoot=None)
    assert failing(spec)["runAsNonRoot"] == (
        'pod or containers "init", "app", "debug" must set securityContext.runAsNonRoot=true'
    )


def test_user_namespace_relaxation_only_when_the_gate_is_on_and_host_users_false() -> None:
    spec = with_pod(runAsNonRoot=False, runAsUser=0)
    spec["hostUsers"] = False
    assert set(failing(spec)) == {"runAsNonRoot", "runAsUser"}  # gate off: the v1.33 default
    assert failing(spec, relax_user_namespaces=True) == {}
    spec["hostUsers"] = True
    assert set(failing(spec, relax_user_namespaces=True)) == {"runAsNonRoot", "runAsUser"}


# --- runAsUser ------------------------------------------------------------------------------------


def test_run_as_user_zero_at_pod_level() -> None:
    assert failing(with_pod(runAsUser=0)) == {"runAsUser": "pod must not set runAsUser=0"}


@pytest.mark.parametrize(("kind", "name"), SLOTS)
def test_run_as_user_zero_in_a_container(kind: str, name: str) -> None:
    assert failing(with_container(kind, runAsUser=0)) == {"runAsUser": f'container "{name}" must not set runAsUser=0'}


def test_run_as_user_non_zero_and_absent_pass_and_the_check_starts_at_v1_23() -> None:
    assert failing(with_pod(runAsUser=1000)) == {}
    spec = with_pod(runAsUser=0)
    spec["containers"][0]["securityContext"]["runAsUser"] = 0
    assert failing(spec)["runAsUser"] == 'pod and container "app" must not set runAsUser=0'
    assert failing(spec, version="v1.22") == {}
    assert failing(spec, "baseline") == {}


# --- allowPrivilegeEscalation ---------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "name"), SLOTS)
@pytest.mark.parametrize("value", [True, None])
def test_allow_privilege_escalation_must_be_explicitly_false(kind: str, name: str, value: bool | None) -> None:
    spec = with_container(kind, allowPrivilegeEscalation=value)
    expected = f'container "{name}" must set securityContext.allowPrivilegeEscalation=false'
    assert failing(spec) == {"allowPrivilegeEscalation": expected}
    del spec[kind][0]["securityContext"]["allowPrivilegeEscalation"]
    assert failing(spec) == {"allowPrivilegeEscalation": expected}
    assert failing(spec, "baseline") == {}


def test_allow_privilege_escalation_missing_security_context_and_windows_exemption_from_v1_25() -> None:
    spec = compliant()
    for kind, _ in SLOTS:
        del spec[kind][0]["securityContext"]
    spec["securityContext"] = {"runAsNonRoot": True}
    spec["os"] = {"name": "windows"}
    assert failing(spec) == {}  # APE, capabilities and seccomp exempt a Windows pod from v1.25
    assert failing(spec, version="v1.24") == {
        "allowPrivilegeEscalation": 'containers "init", "app", "debug" must set '
        "securityContext.allowPrivilegeEscalation=false",
        "capabilities_restricted": 'containers "init", "app", "debug" must set '
        'securityContext.capabilities.drop=["ALL"]',
        "seccompProfile_restricted": 'pod or containers "init", "app", "debug" must set '
        'securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"',
    }
    assert "allowPrivilegeEscalation" not in failing(spec, version="v1.7")  # the field came in v1.8
    spec["os"] = {"name": "linux"}
    assert set(failing(spec)) == {"allowPrivilegeEscalation", "capabilities_restricted", "seccompProfile_restricted"}


# --- capabilities ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "name"), SLOTS)
def test_capabilities_restricted_must_drop_all(kind: str, name: str) -> None:
    expected = f'container "{name}" must set securityContext.capabilities.drop=["ALL"]'
    for capabilities in (None, {}, {"drop": ["all"]}, {"drop": ["NET_RAW"]}, {"add": ["NET_BIND_SERVICE"]}):
        spec = with_container(kind, capabilities=capabilities)
        assert failing(spec) == {"capabilities_restricted": expected}, capabilities
    assert failing(with_container(kind, capabilities={"drop": ["NET_RAW", "ALL"]})) == {}


@pytest.mark.parametrize(("kind", "name"), SLOTS)
def test_capabilities_restricted_may_add_only_net_bind_service(kind: str, name: str) -> None:
    ok = with_container(kind, capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})
    assert failing(ok) == {}
    spec = with_container(kind, capabilities={"add": ["SYS_TIME", "CHOWN", "NET_BIND_SERVICE"]})
    assert failing(spec) == {
        "capabilities_restricted": f'container "{name}" must set securityContext.capabilities.drop=["ALL"]; '
        f'container "{name}" must not include "CHOWN", "SYS_TIME" in securityContext.capabilities.add'
    }


@pytest.mark.parametrize(("kind", "name"), SLOTS)
def test_capabilities_baseline_allows_the_default_set_only(kind: str, name: str) -> None:
    assert failing(with_container(kind, capabilities={"add": ["CHOWN", "NET_BIND_SERVICE", "KILL"]}), "baseline") == {}
    spec = with_container(kind, capabilities={"add": ["NET_RAW", "CHOWN", "SYS_ADMIN"]})
    assert failing(spec, "baseline") == {
        "capabilities_baseline": f'container "{name}" must not include "NET_RAW", "SYS_ADMIN" in '
        "securityContext.capabilities.add"
    }
    # restricted replaces the baseline check from v1.22; before, the baseline check runs at restricted
    assert set(failing(spec)) == {"capabilities_restricted"}
    assert set(failing(spec, version="v1.21")) == {"capabilities_baseline"}


# --- seccompProfile -------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "name"), SLOTS)
def test_seccomp_restricted_container_must_be_covered(kind: str, name: str) -> None:
    spec = compliant()
    del spec["securityContext"]["seccompProfile"]
    for other, _ in SLOTS:
        spec[other][0]["securityContext"]["seccompProfile"] = {"type": "Localhost", "localhostProfile": "p.json"}
    assert failing(spec) == {}
    del spec[kind][0]["securityContext"]["seccompProfile"]
    assert failing(spec) == {
        "seccompProfile_restricted": f'pod or container "{name}" must set securityContext.seccompProfile.type to '
        '"RuntimeDefault" or "Localhost"'
    }


@pytest.mark.parametrize(("kind", "name"), SLOTS)
def test_seccomp_container_unconfined_overrides_a_good_pod_profile(kind: str, name: str) -> None:
    spec = with_container(kind, seccompProfile={"type": "Unconfined"})
    detail = f'container "{name}" must not set securityContext.seccompProfile.type to "Unconfined"'
    assert failing(spec) == {"seccompProfile_restricted": detail}
    assert failing(spec, "baseline") == {"seccompProfile_baseline": detail}


def test_seccomp_pod_unconfined_fails_even_when_every_container_sets_runtime_default() -> None:
    spec = with_pod(seccompProfile={"type": "Unconfined"})
    for kind, _ in SLOTS:
        spec[kind][0]["securityContext"]["seccompProfile"] = {"type": "RuntimeDefault"}
    detail = 'pod must not set securityContext.seccompProfile.type to "Unconfined"'
    assert failing(spec) == {"seccompProfile_restricted": detail}
    assert failing(spec, "baseline") == {"seccompProfile_baseline": detail}


def test_seccomp_set_profile_with_empty_type_is_a_bad_value() -> None:
    spec = with_pod(seccompProfile={})
    assert failing(spec, "baseline") == {
        "seccompProfile_baseline": 'pod must not set securityContext.seccompProfile.type to ""'
    }


def test_seccomp_baseline_before_v1_19_reads_the_alpha_annotations() -> None:
    spec = with_pod(seccompProfile={"type": "Unconfined"})
    assert failing(spec, "baseline", "v1.18") == {}  # fields are not read before v1.19
    metadata = {
        "annotations": {
            "seccomp.security.alpha.kubernetes.io/pod": "unconfined",
            "container.seccomp.security.alpha.kubernetes.io/app": "docker/default",
            "container.seccomp.security.alpha.kubernetes.io/debug": "localhost/x",
            "container.seccomp.security.alpha.kubernetes.io/init": "unconfined",
        }
    }
    assert failing(spec, "baseline", "v1.18", metadata=metadata) == {
        "seccompProfile_baseline": "forbidden annotations "
        'container.seccomp.security.alpha.kubernetes.io/init="unconfined", '
        'seccomp.security.alpha.kubernetes.io/pod="unconfined"'
    }
    # at restricted before v1.19 the baseline (annotation) check still runs: nothing overrides it yet
    assert set(failing(spec, "restricted", "v1.18", metadata=metadata)) == {"seccompProfile_baseline"}


# --- privileged, procMount, hostProcess, hostPorts ------------------------------------------------


@pytest.mark.parametrize(("kind", "name"), SLOTS)
def test_privileged(kind: str, name: str) -> None:
    assert failing(with_container(kind, privileged=False), "baseline") == {}
    assert failing(with_container(kind, privileged=True), "baseline") == {
        "privileged": f'container "{name}" must not set securityContext.privileged=true'
    }


@pytest.mark.parametrize(("kind", "name"), SLOTS)
def test_proc_mount(kind: str, name: str) -> None:
    assert failing(with_container(kind, procMount="Default"), "baseline") == {}
    spec = with_container(kind, procMount="Unmasked")
    assert failing(spec, "baseline") == {
        "procMount": f'container "{name}" must not set securityContext.procMount to "Unmasked"'
    }
    spec["hostUsers"] = False
    assert set(failing(spec, "baseline")) == {"procMount"}
    assert failing(spec, "baseline", relax_user_namespaces=True) == {}


@pytest.mark.parametrize(("kind", "name"), SLOTS)
def test_windows_host_process(kind: str, name: str) -> None:
    spec = with_container(kind, windowsOptions={"hostProcess": False})
    assert failing(spec, "baseline") == {}
    spec = with_container(kind, windowsOptions={"hostProcess": True})
    spec["securityContext"]["windowsOptions"] = {"hostProcess": True}
    assert failing(spec, "baseline") == {
        "windowsHostProcess": f'pod and container "{name}" must not set securityContext.windowsOptions.hostProcess=true'
    }


@pytest.mark.parametrize(("kind", "name"), SLOTS)
def test_host_ports(kind: str, name: str) -> None:
    spec = compliant()
    spec[kind][0]["ports"] = [{"containerPort": 80}, {"containerPort": 81, "hostPort": 0}]
    assert failing(spec, "baseline") == {}
    spec[kind][0]["ports"] += [{"containerPort": 8080, "hostPort": 8080}, {"containerPort": 9, "hostPort": 10000}]
    assert failing(spec, "baseline") == {"hostPorts": f'container "{name}" uses hostPorts 10000, 8080'}


def test_host_ports_in_two_containers() -> None:
    spec = compliant()
    spec["initContainers"][0]["ports"] = [{"containerPort": 1, "hostPort": 20}]
    spec["containers"][0]["ports"] = [{"containerPort": 1, "hostPort": 20}]
    assert failing(spec, "baseline") == {"hostPorts": 'containers "init", "app" use hostPort 20'}


def test_host_network_defaults_host_ports_as_the_api_server_does() -> None:
    spec = compliant()
    spec["hostNetwork"] = True
    spec["containers"][0]["ports"] = [{"containerPort": 8080}]
    spec["ephemeralContainers"][0]["ports"] = [{"containerPort": 9090}]  # ephemeral ports are not defaulted
    assert failing(spec, "baseline") == {
        "hostNamespaces": "hostNetwork=true",
        "hostPorts": 'container "app" uses hostPort 8080',
    }


# --- pod-level baseline checks --------------------------------------------------------------------


def test_host_namespaces() -> None:
    spec = compliant()
    spec.update(hostNetwork=False, hostPID=False, hostIPC=False)
    assert failing(spec, "baseline") == {}
    spec.update(hostNetwork=True, hostPID=True, hostIPC=True)
    assert failing(spec, "baseline") == {"hostNamespaces": "hostNetwork=true, hostPID=true, hostIPC=true"}
    spec.update(hostNetwork=False, hostIPC=False)
    assert failing(spec, "baseline") == {"hostNamespaces": "hostPID=true"}


def test_sysctls_safe_set_grows_with_the_version() -> None:
    spec = with_pod(sysctls=[{"name": "net.ipv4.tcp_rmem", "value": "1"}, {"name": "kernel.msgmax", "value": "1"}])
    assert failing(spec, "baseline") == {"sysctls": "kernel.msgmax"}
    assert failing(spec, "baseline", "v1.31") == {"sysctls": "net.ipv4.tcp_rmem, kernel.msgmax"}
    for name, first in [("net.ipv4.ip_local_reserved_ports", 27), ("net.ipv4.tcp_keepalive_time", 29)]:
        spec = with_pod(sysctls=[{"name": name, "value": "1"}])
        assert failing(spec, "baseline", f"v1.{first}") == {}
        assert failing(spec, "baseline", f"v1.{first - 1}") == {"sysctls": name}
    assert failing(with_pod(sysctls=[{"name": "kernel.shm_rmid_forced", "value": "1"}]), "baseline", "v1.0") == {}


@pytest.mark.parametrize(("kind", "name"), SLOTS)
def test_selinux_options(kind: str, name: str) -> None:
    for options in ({}, {"type": "container_t"}, {"type": "container_init_t"}, {"level": "s0:c1,c2"}):
        assert failing(with_container(kind, seLinuxOptions=options), "baseline") == {}, options
    spec = with_container(kind, seLinuxOptions={"type": "container_engine_t"})
    assert failing(spec, "baseline") == {}
    assert failing(spec, "baseline", "v1.30") == {
        "seLinuxOptions": f'container "{name}" set forbidden securityContext.seLinuxOptions: type "container_engine_t"'
    }
    spec = with_container(kind, seLinuxOptions={"type": "spc_t", "user": "u", "role": "r"})
    spec["securityContext"]["seLinuxOptions"] = {"type": "unconfined_t"}
    assert failing(spec, "baseline") == {
        "seLinuxOptions": f'pod and container "{name}" set forbidden securityContext.seLinuxOptions: '
        'types "spc_t", "unconfined_t"; user may not be set; role may not be set'
    }


@pytest.mark.parametrize(("kind", "name"), SLOTS)
def test_apparmor_profile(kind: str, name: str) -> None:
    for profile in ({"type": "RuntimeDefault"}, {"type": "Localhost", "localhostProfile": "p"}):
        assert failing(with_container(kind, appArmorProfile=profile), "baseline") == {}
    assert failing(with_container(kind, appArmorProfile={"type": "Unconfined"}), "baseline") == {
        "appArmorProfile": f'container "{name}" must not set AppArmor profile type to "Unconfined"'
    }


def test_apparmor_pod_level_empty_type_and_annotations() -> None:
    spec = with_pod(appArmorProfile={})
    spec["containers"][0]["securityContext"]["appArmorProfile"] = {"type": "Unconfined"}
    metadata = {
        "annotations": {
            "container.apparmor.security.beta.kubernetes.io/app": "unconfined",
            "container.apparmor.security.beta.kubernetes.io/init": "runtime/default",
            "container.apparmor.security.beta.kubernetes.io/debug": "localhost/p",
        }
    }
    [(cid, result)] = check_pod(spec, "baseline", metadata=metadata)
    assert (cid, result.reason) == ("appArmorProfile", "forbidden AppArmor profiles")
    assert result.detail == (
        'pod and container "app" and annotation must not set AppArmor profile type to '
        '"", "Unconfined", "container.apparmor.security.beta.kubernetes.io/app="unconfined""'
    )


def test_host_path_volume_at_baseline_becomes_a_restricted_volume_type_at_restricted() -> None:
    spec = compliant()
    spec["volumes"].append({"name": "host", "hostPath": {"path": "/"}})
    assert failing(spec, "baseline") == {"hostPathVolumes": 'volume "host"'}
    assert failing(spec) == {"restrictedVolumes": 'volume "host" uses restricted volume type "hostPath"'}


@pytest.mark.parametrize(
    "source",
    [
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "image",
        "persistentVolumeClaim",
        "projected",
        "secret",
    ],
)
def test_restricted_allows_these_volume_sources(source: str) -> None:
    spec = compliant()
    spec["volumes"] = [{"name": "v", source: {}}]
    assert failing(spec) == {}


def test_restricted_volume_types_named_as_upstream() -> None:
    spec = compliant()
    spec["volumes"] = [
        {"name": "a", "nfs": {"server": "s", "path": "/"}},
        {"name": "b", "gcePersistentDisk": {"pdName": "d"}},
        {"name": "c"},
        {"name": "d", "configMap": None},  # null is no source
    ]
    assert failing(spec) == {
        "restrictedVolumes": 'volumes "a", "b", "c", "d" use restricted volume types '
        '"gcePersistentDisk", "nfs", "unknown"'
    }
    assert failing(spec, "baseline") == {}


def test_failing_checks_are_ordered_baseline_then_restricted_by_id() -> None:
    spec = copy.deepcopy(compliant())
    spec["hostPID"] = True
    spec["containers"][0]["securityContext"] = {"privileged": True, "runAsUser": 0}
    assert list(failing(spec)) == [
        "hostNamespaces", "privileged", "allowPrivilegeEscalation", "capabilities_restricted", "runAsUser",
    ]  # fmt: skip
