"""Schema validation of built-in Kubernetes objects against the pinned Kubernetes version.

The OpenAPI-derived JSON schemas ship with the kubernetes-validate package (offline). Strict
schemas reject unknown fields, which is how a typo like `replica:` is caught before a merge.
Custom resources are left to the CRD schema model (their schemas come from upstream sources).
"""

import json
import re
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import jsonschema.protocols
from referencing import Registry, Resource

from verification.errors import UserError
from verification.versions import versions
from verification.yamlio import source_of, strip_source

# Kinds without a namespace; everything else is namespaced (destination namespace by default).
CLUSTER_SCOPED = frozenset(
    {
        ("", "Namespace"),
        ("", "PersistentVolume"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
        ("networking.k8s.io", "IngressClass"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("storage.k8s.io", "StorageClass"),
    }
)


def cluster_scoped(obj: dict[str, Any]) -> bool:
    return (str(obj.get("apiVersion", "")).rpartition("/")[0], obj.get("kind")) in CLUSTER_SCOPED


_SCHEMA_ROOT = resources.files("kubernetes_validate") / "kubernetes-json-schema"


def kubernetes_minor() -> str:
    """`1.33` for the pinned v1.33.x."""
    match = re.match(r"v?(\d+\.\d+)", str(versions()["kubernetes"]["version"]))
    if not match:
        raise UserError("platform/versions.yaml: kubernetes.version is not a version like v1.33.6")
    return match.group(1)


@cache
def _schema_dir(minor: str) -> str:
    wanted = tuple(int(p) for p in minor.split("."))
    found = [re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)-local-strict", entry.name) for entry in _SCHEMA_ROOT.iterdir()]
    releases = [(tuple(map(int, m.groups())), m.string) for m in found if m]
    available = [(release, name) for release, name in releases if release[:2] <= wanted]
    if not available:
        raise UserError(f"kubernetes-validate has no schemas for Kubernetes {minor}; upgrade the package")
    return max(available)[1]


@cache
def _registry(schema_dir: str) -> Registry:
    definitions = json.loads((_SCHEMA_ROOT / schema_dir / "_definitions.json").read_text())
    return Resource.from_contents(definitions) @ Registry()


@cache
def _validator(schema_dir: str, kind: str, api_version: str) -> jsonschema.protocols.Validator | None:
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = _SCHEMA_ROOT / schema_dir / f"{kind.lower()}-{group_version}.json"
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    registry = Resource.from_contents(schema) @ _registry(schema_dir)
    return jsonschema.Draft202012Validator(schema, registry=registry)


def is_builtin(obj: dict[str, Any]) -> bool:
    return _validator(_schema_dir(kubernetes_minor()), obj["kind"], obj["apiVersion"]) is not None


def validate(obj: dict[str, Any]) -> list[str]:
    """Readable schema violations of a built-in object (empty list when valid)."""
    validator = _validator(_schema_dir(kubernetes_minor()), obj["kind"], obj["apiVersion"])
    if validator is None:
        return [f"{describe(obj)}: unknown kind {obj['apiVersion']}/{obj['kind']} for Kubernetes {kubernetes_minor()}"]
    clean = strip_source(obj)
    return [
        f"{describe(obj)}: {'.'.join(str(p) for p in error.absolute_path) or '<root>'}: {_short(error)}"
        for error in sorted(validator.iter_errors(clean), key=lambda e: list(map(str, e.absolute_path)))
    ]


def _short(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown field")
    return error.message if len(error.message) < 160 else error.message[:157] + "..."


def describe(obj: dict[str, Any]) -> str:
    """`FILE: KIND [NAMESPACE/]NAME`, the prefix of every schema violation."""
    meta = obj.get("metadata") or {}
    ns = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{source_of(obj)}: {obj.get('kind')} {ns}{meta.get('name', '?')}"
