"""Pod Security Standards (baseline and restricted, Kubernetes v1.33 "latest") as a model.

`violations(pod_spec, level)` returns the readable reasons a pod spec would be rejected by
Pod Security Admission at that level; the e2e suite checks the live admission agrees.
"""

from collections.abc import Iterator
from typing import Any

LEVELS = ("privileged", "baseline", "restricted")
_BASELINE_CAPS = {
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}  # fmt: skip
_SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}  # fmt: skip
_RESTRICTED_VOLUMES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
}  # fmt: skip
_POD_TEMPLATE_PATHS = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}


def pod_spec_of(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The pod spec a workload object creates, or None for objects that create no pods."""
    if obj.get("kind") == "Pod":
        return obj.get("spec") or {}
    path = _POD_TEMPLATE_PATHS.get(obj.get("kind", ""))
    if not path:
        return None
    node: Any = obj
    for key in path:
        node = (node or {}).get(key)
    return (node or {}).get("spec") or {}


def _containers(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(field) or []:
            yield f"{field[:-1]} {container.get('name', '?')}", container


def violations(spec: dict[str, Any], level: str) -> list[str]:
    if level not in LEVELS:
        raise ValueError(f"unknown Pod Security level {level!r} (one of {', '.join(LEVELS)})")
    if level == "privileged":
        return []
    found = _baseline(spec)
    if level == "restricted":
        found += _restricted(spec)
    return found


def _baseline(spec: dict[str, Any]) -> list[str]:
    found = []
    pod_sc = spec.get("securityContext") or {}
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            found.append(f"{field}: true is forbidden")
    if (pod_sc.get("windowsOptions") or {}).get("hostProcess"):
        found.append("hostProcess containers are forbidden")
    for volume in spec.get("volumes") or []:
        if "hostPath" in volume:
            found.append(f"volume {volume.get('name')}: hostPath volumes are forbidden")
    for sysctl in pod_sc.get("sysctls") or []:
        if sysctl.get("name") not in _SAFE_SYSCTLS:
            found.append(f"sysctl {sysctl.get('name')} is not in the safe set")
    found += _seccomp_not_unconfined("pod", pod_sc)
    found += _selinux("pod", pod_sc)
    for where, container in _containers(spec):
        sc = container.get("securityContext") or {}
        if sc.get("privileged"):
            found.append(f"{where}: privileged: true is forbidden")
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            found.append(f"{where}: hostProcess is forbidden")
        added = set((sc.get("capabilities") or {}).get("add") or []) - _BASELINE_CAPS
        if added:
            found.append(f"{where}: capabilities {sorted(added)} may not be added")
        for port in container.get("ports") or []:
            if port.get("hostPort"):
                found.append(f"{where}: hostPort {port['hostPort']} is forbidden")
        if sc.get("procMount", "Default") != "Default":
            found.append(f"{where}: procMount must be Default")
        found += _seccomp_not_unconfined(where, sc)
        found += _selinux(where, sc)
        apparmor = (sc.get("appArmorProfile") or {}).get("type")
        if apparmor == "Unconfined":
            found.append(f"{where}: appArmorProfile Unconfined is forbidden")
    return found


def _seccomp_not_unconfined(where: str, sc: dict[str, Any]) -> list[str]:
    if (sc.get("seccompProfile") or {}).get("type") == "Unconfined":
        return [f"{where}: seccompProfile Unconfined is forbidden"]
    return []


def _selinux(where: str, sc: dict[str, Any]) -> list[str]:
    options = sc.get("seLinuxOptions") or {}
    found = []
    if options.get("type") not in (
        None,
        "",
        "container_t",
        "container_init_t",
        "container_kvm_t",
        "container_engine_t",
    ):
        found.append(f"{where}: seLinuxOptions.type {options['type']} is forbidden")
    if options.get("user") or options.get("role"):
        found.append(f"{where}: seLinuxOptions user/role may not be set")
    return found


def _restricted(spec: dict[str, Any]) -> list[str]:
    found = []
    pod_sc = spec.get("securityContext") or {}
    for volume in spec.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if kinds and not kinds <= _RESTRICTED_VOLUMES:
            found.append(f"volume {volume.get('name')}: type {sorted(kinds)[0]} is not allowed under restricted")
    if pod_sc.get("runAsUser") == 0:
        found.append("pod: runAsUser 0 is forbidden")
    pod_non_root = pod_sc.get("runAsNonRoot")
    pod_seccomp = (pod_sc.get("seccompProfile") or {}).get("type")
    for where, container in _containers(spec):
        sc = container.get("securityContext") or {}
        if sc.get("allowPrivilegeEscalation") is not False:
            found.append(f"{where}: allowPrivilegeEscalation must be false")
        non_root = sc.get("runAsNonRoot", pod_non_root)
        if non_root is not True:
            found.append(f"{where}: runAsNonRoot must be true (pod or container)")
        if sc.get("runAsUser") == 0:
            found.append(f"{where}: runAsUser 0 is forbidden")
        seccomp = (sc.get("seccompProfile") or {}).get("type", pod_seccomp)
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(f"{where}: seccompProfile must be RuntimeDefault or Localhost")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            found.append(f"{where}: capabilities must drop ALL")
        extra = set(caps.get("add") or []) - {"NET_BIND_SERVICE"}
        if extra:
            found.append(f"{where}: only NET_BIND_SERVICE may be added, not {sorted(extra)}")
    return found


def namespace_levels(objects: list[dict[str, Any]]) -> dict[str, str]:
    """Enforced Pod Security level per namespace, from Namespace labels (absent = privileged)."""
    levels = {}
    for obj in objects:
        if obj.get("kind") == "Namespace":
            labels = obj["metadata"].get("labels") or {}
            levels[obj["metadata"]["name"]] = labels.get("pod-security.kubernetes.io/enforce", "privileged")
    return levels
