"""The pod (metadata and spec) a workload object creates."""

from typing import Any

# Where each workload kind keeps the template of its pods (admission/cel.py derives its pod spec paths).
TEMPLATE_PATHS = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "PodTemplate": ("template",),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}


def pod_template_of(obj: dict[str, Any]) -> dict[str, Any] | None:
    """{"metadata", "spec"} of the pod a workload creates, or None for objects that create no pods."""
    if obj.get("kind") == "Pod":
        return {"metadata": obj.get("metadata") or {}, "spec": obj.get("spec") or {}}
    path = TEMPLATE_PATHS.get(obj.get("kind", ""))
    if not path:
        return None
    node: Any = obj
    for key in path:
        node = (node or {}).get(key)
    node = node or {}
    return {"metadata": node.get("metadata") or {}, "spec": node.get("spec") or {}}


def pod_spec_of(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The pod spec a workload object creates, or None for objects that create no pods."""
    template = pod_template_of(obj)
    return None if template is None else template["spec"]
