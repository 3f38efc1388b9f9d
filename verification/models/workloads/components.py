"""The platform's own components (Grafana, ingress-nginx, ArgoCD) agree with what they serve.

- Grafana mounts every dashboard ConfigMap (file provisioning: a ConfigMap it does not mount is a
  dashboard nobody sees) and the data source ConfigMap.
- ArgoCD's plain install (platform/manifests/argocd-install) carries the settings of the Helm
  values (platform/argocd-install/values.yaml) key by key and runs the pinned version.
"""

from collections.abc import Iterator
from typing import Any

from verification.models.monitoring.dashboards import DASHBOARD_LABEL
from verification.versions import versions
from verification.yamlio import source_of

GRAFANA = ("monitoring", "grafana")
DATASOURCE_LABEL = "grafana_datasource"
ARGOCD_NAMESPACE = "argocd"
ARGOCD_IMAGE_REPOSITORY = "quay.io/argoproj/argocd"


def _find(objects: list[dict[str, Any]], kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    metas = ((obj, obj.get("metadata") or {}) for obj in objects if obj["kind"] == kind)
    return next((obj for obj, meta in metas if (meta.get("namespace"), meta.get("name")) == (namespace, name)), None)


def _mounted_config_maps(pod_spec: dict[str, Any]) -> set[str]:
    volumes = pod_spec.get("volumes") or []
    sources = [*volumes, *(s for v in volumes for s in (v.get("projected") or {}).get("sources") or [])]
    return {source["configMap"].get("name") for source in sources if "configMap" in source}


def check_grafana_provisioning(objects: list[dict[str, Any]]) -> list[str]:
    deployment = _find(objects, "Deployment", *GRAFANA)
    if deployment is None:
        return [f"no Deployment {'/'.join(GRAFANA)}: Grafana is not part of the platform"]
    mounted = _mounted_config_maps(deployment["spec"]["template"]["spec"])
    problems = []
    for obj in objects:
        meta = obj.get("metadata") or {}
        labels = meta.get("labels") or {}
        if obj["kind"] != "ConfigMap" or meta.get("namespace") != GRAFANA[0]:
            continue
        for label in (DASHBOARD_LABEL, DATASOURCE_LABEL):
            if label in labels and meta.get("name") not in mounted:
                problems.append(
                    f"{source_of(obj)}: ConfigMap {meta.get('name')} (label {label}) is not mounted by "
                    f"Deployment {'/'.join(GRAFANA)} ({source_of(deployment)}): Grafana would never load it"
                )
    return problems


def _argocd_images(objects: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], str]]:
    for obj in objects:
        if (obj.get("metadata") or {}).get("namespace") != ARGOCD_NAMESPACE:
            continue
        template = (obj.get("spec") or {}).get("template") or {}
        for container in (template.get("spec") or {}).get("containers") or []:
            if str(container.get("image", "")).startswith(ARGOCD_IMAGE_REPOSITORY + ":"):
                yield obj, container["image"]


def check_argocd_install(objects: list[dict[str, Any]], values: dict[str, Any]) -> list[str]:
    """The plain install equals the Helm values' settings and runs components.argocd."""
    problems = []
    pin = str(versions().get("components", {}).get("argocd"))
    images = list(_argocd_images(objects))
    if not images:
        problems.append(f"no ArgoCD workload in namespace {ARGOCD_NAMESPACE} runs {ARGOCD_IMAGE_REPOSITORY}")
    for obj, image in images:
        if image != f"{ARGOCD_IMAGE_REPOSITORY}:{pin}":
            problems.append(f"{source_of(obj)}: {obj['kind']} {obj['metadata']['name']} runs {image}, pin is {pin}")
    cm = _find(objects, "ConfigMap", ARGOCD_NAMESPACE, "argocd-cm")
    want = {str(k): str(v) for k, v in (((values.get("configs") or {}).get("cm")) or {}).items() if k != "create"}
    if cm is None:
        return [*problems, f"no ConfigMap {ARGOCD_NAMESPACE}/argocd-cm"]
    have = {str(k): str(v) for k, v in (cm.get("data") or {}).items()}
    for key in sorted(set(want) | set(have)):
        if want.get(key, "").strip() != have.get(key, "").strip():
            problems.append(
                f"{source_of(cm)}: argocd-cm {key!r} differs from configs.cm in platform/argocd-install/values.yaml "
                f"({have.get(key, '<missing>')!r:.60} vs {want.get(key, '<missing>')!r:.60})"
            )
    return problems
