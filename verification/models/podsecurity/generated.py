"""Generated pod specs over every field a Pod Security check reads (hypothesis strategies).

Shared by the unit properties (tests/podsecurity) and the live comparison with admission
(verification/e2e/test_pod_security_live.py). A spec starts compliant with restricted, with the
restricted settings at pod level or on every container, and takes up to four edits, each setting or
removing one checked field on the pod or on one container, so verdicts spread over admitted and
rejected and every edit sits on a check's boundary. `api_valid` then removes combinations the API
server's validation refuses before admission runs (they would never reach Pod Security).
Ephemeral containers cannot be set on create, so generated specs have none.
"""

import copy
from typing import Any

from hypothesis import strategies as st

DELETE = object()  # an edit that removes the field
RUNTIME_DEFAULT = {"type": "RuntimeDefault"}
SECCOMP = [RUNTIME_DEFAULT, {"type": "Localhost", "localhostProfile": "profiles/audit.json"}, {"type": "Unconfined"}]
APPARMOR = [RUNTIME_DEFAULT, {"type": "Localhost", "localhostProfile": "k8s-apparmor"}, {"type": "Unconfined"}]
SELINUX = [
    {"type": "container_t"}, {"type": "container_engine_t"}, {"type": "spc_t"}, {"user": "system_u"},
    {"role": "system_r"},
]  # fmt: skip
SYSCTLS = [
    [{"name": "kernel.shm_rmid_forced", "value": "1"}],
    [{"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"}],
    [{"name": "kernel.msgmax", "value": "65536"}],
]
POD_FIELDS: dict[str, list[Any]] = {
    "runAsNonRoot": [True, False, DELETE],
    "runAsUser": [0, 10001, DELETE],
    "seccompProfile": [*SECCOMP, DELETE],
    "appArmorProfile": APPARMOR,
    "seLinuxOptions": SELINUX,
    "sysctls": SYSCTLS,
}
SPEC_FIELDS: dict[str, list[Any]] = {
    "hostNetwork": [True, False],
    "hostPID": [True, False],
    "hostIPC": [True, False],
    "os": [{"name": "linux"}, {"name": "windows"}],
}
VOLUMES = [
    {"emptyDir": {}}, {"configMap": {"name": "settings"}}, {"csi": {"driver": "csi.example.com"}},
    {"hostPath": {"path": "/var/log"}}, {"nfs": {"server": "nfs.example.com", "path": "/export"}},
]  # fmt: skip
CAPABILITIES = [
    DELETE, {}, {"drop": ["ALL"]}, {"drop": ["all"]}, {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
    {"drop": ["ALL"], "add": ["NET_RAW"]}, {"add": ["CHOWN"]}, {"drop": ["ALL"], "add": ["SYS_TIME"]},
]  # fmt: skip
CONTAINER_FIELDS: dict[str, list[Any]] = {
    "allowPrivilegeEscalation": [True, False, DELETE],
    "privileged": [True, False],
    "runAsNonRoot": [True, False, DELETE],
    "runAsUser": [0, 10001],
    "capabilities": CAPABILITIES,
    "seccompProfile": [*SECCOMP, DELETE],
    "appArmorProfile": APPARMOR,
    "seLinuxOptions": SELINUX,
    "procMount": ["Default", "Unmasked"],
    "ports": [[{"containerPort": 8080, "hostPort": 8080}], [{"containerPort": 8080, "hostPort": 0}]],
}
# Fields Linux-only by API validation: a Windows pod may not set them.
_LINUX_POD = ("seLinuxOptions", "seccompProfile", "appArmorProfile", "sysctls", "runAsUser")
_LINUX_CONTAINER = (
    "seLinuxOptions", "seccompProfile", "appArmorProfile", "capabilities", "privileged", "allowPrivilegeEscalation",
    "procMount", "runAsUser",
)  # fmt: skip


def compliant(placement: str, init: int, regular: int, image: str = "registry.example/probe:1") -> dict[str, Any]:
    """A restricted pod; `placement` "pod" puts runAsNonRoot and seccomp on the pod, "containers" on each."""
    shared = {"runAsNonRoot": True, "seccompProfile": dict(RUNTIME_DEFAULT)}

    def container(name: str) -> dict[str, Any]:
        sc: dict[str, Any] = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
        if placement == "containers":
            sc.update(copy.deepcopy(shared))
        return {"name": name, "image": image, "securityContext": sc}

    spec: dict[str, Any] = {"containers": [container(f"app{i}") for i in range(regular)]}
    if init:
        spec["initContainers"] = [container(f"init{i}") for i in range(init)]
    if placement == "pod":
        spec["securityContext"] = copy.deepcopy(shared)
    return spec


# One change to a pod spec: where ("pod", "spec", "volume" or a (containers kind, index) slot),
# the field, and its value (any JSON the field takes, or DELETE).
Edit = tuple[str | tuple[str, int], str, Any]


def _set(target: dict[str, Any], key: str, value: Any) -> None:
    if value is DELETE:
        target.pop(key, None)
    else:
        target[key] = copy.deepcopy(value)


def _edits(init: int, regular: int) -> st.SearchStrategy[Edit]:
    slots = [("initContainers", i) for i in range(init)] + [("containers", i) for i in range(regular)]
    pod = st.sampled_from(sorted(POD_FIELDS)).flatmap(
        lambda f: st.tuples(st.just("pod"), st.just(f), st.sampled_from(POD_FIELDS[f]))
    )
    spec = st.sampled_from(sorted(SPEC_FIELDS)).flatmap(
        lambda f: st.tuples(st.just("spec"), st.just(f), st.sampled_from(SPEC_FIELDS[f]))
    )
    volume = st.tuples(st.just("volume"), st.just("volumes"), st.sampled_from(VOLUMES))
    container = st.tuples(st.sampled_from(slots), st.sampled_from(sorted(CONTAINER_FIELDS))).flatmap(
        lambda sf: st.tuples(st.just(sf[0]), st.just(sf[1]), st.sampled_from(CONTAINER_FIELDS[sf[1]]))
    )
    return st.one_of(container, pod, spec, volume)


def _apply(spec: dict[str, Any], edit: Edit) -> None:
    where, key, value = edit
    if where == "pod":
        _set(spec.setdefault("securityContext", {}), key, value)
    elif where == "spec":
        _set(spec, key, value)
    elif where == "volume":
        volumes = spec.setdefault("volumes", [])
        volumes.append({"name": f"vol{len(volumes)}", **copy.deepcopy(value)})
    else:
        assert isinstance(where, tuple), where  # the remaining case: a container slot
        kind, index = where
        container = spec[kind][index]
        if key == "ports":
            _set(container, key, value)
        else:
            _set(container.setdefault("securityContext", {}), key, value)


def api_valid(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec minus what API validation refuses before admission runs."""
    spec = copy.deepcopy(spec)
    pod_sc = spec.get("securityContext") or {}
    containers = [c for kind in ("initContainers", "containers") for c in spec.get(kind) or []]
    if (spec.get("os") or {}).get("name") == "windows":
        for key in ("hostNetwork", "hostPID", "hostIPC", "hostUsers"):
            spec.pop(key, None)
        for key in _LINUX_POD:
            pod_sc.pop(key, None)
        for c in containers:
            for key in _LINUX_CONTAINER:
                (c.get("securityContext") or {}).pop(key, None)
    for c in containers:
        sc = c.get("securityContext") or {}
        if sc.get("privileged") is True and sc.get("allowPrivilegeEscalation") is False:
            del sc["allowPrivilegeEscalation"]  # "cannot set allowPrivilegeEscalation to false and privileged to true"
    if any((c.get("securityContext") or {}).get("procMount") == "Unmasked" for c in containers):
        spec["hostUsers"] = False  # "`hostUsers` must be false to use `Unmasked`"; no host namespaces then
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            spec.pop(key, None)
    namespaced = []
    for sysctl in pod_sc.get("sysctls") or []:
        if spec.get("hostNetwork") is True and sysctl["name"].startswith("net."):
            continue  # a net.* sysctl may not be set with hostNetwork
        if spec.get("hostIPC") is True and sysctl["name"].startswith(("kernel.shm", "kernel.msg")):
            continue  # an IPC sysctl may not be set with hostIPC
        namespaced.append(sysctl)
    if "sysctls" in pod_sc:
        pod_sc["sysctls"] = namespaced
        if not namespaced:
            del pod_sc["sysctls"]
    return spec


@st.composite
def pod_specs(draw: st.DrawFn, image: str = "registry.example/probe:1", max_edits: int = 4) -> dict[str, Any]:
    placement = draw(st.sampled_from(["pod", "containers"]))
    init, regular = draw(st.integers(0, 1)), draw(st.integers(1, 2))
    spec = compliant(placement, init, regular, image)
    for edit in draw(st.lists(_edits(init, regular), max_size=max_edits)):
        _apply(spec, edit)
    return api_valid(spec)


@st.composite
def ephemeral_containers(
    draw: st.DrawFn, image: str = "registry.example/probe:1", max_edits: int = 3
) -> dict[str, Any]:
    """An ephemeral container (what `kubectl debug` adds): hardened or bare, then up to `max_edits`
    checked fields changed. No ports (ephemeral containers may have none) and no Unmasked /proc
    (the pods it joins run in the host user namespace)."""
    hardened = draw(st.booleans())
    sc: dict[str, Any] = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}} if hardened else {}
    fields = sorted(set(CONTAINER_FIELDS) - {"ports"})
    for key in draw(st.lists(st.sampled_from(fields), max_size=max_edits)):
        value = draw(st.sampled_from([v for v in CONTAINER_FIELDS[key] if v != "Unmasked"]))
        _set(sc, key, value)
    if sc.get("privileged") is True and sc.get("allowPrivilegeEscalation") is False:
        del sc["allowPrivilegeEscalation"]
    return {"name": "debugger", "image": image, "securityContext": sc}
