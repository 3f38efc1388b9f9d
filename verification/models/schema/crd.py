"""Custom resources validated against the CRD schemas of the pinned upstream versions.

The CRDs come from the upstream Go modules' sources (ArgoCD's `manifests/crds`,
prometheus-operator's `example/prometheus-operator-crd`), downloaded through the Go module
proxy by `platform-verify crds fetch` and reduced to their openAPIV3Schemas in the user cache.
Nothing is copied into the repository and tests never download: a missing cache is one line
naming the fetch command.

Validation follows the API server's structural-schema rules: fields a schema does not declare
(and does not preserve with `x-kubernetes-preserve-unknown-fields`) are errors, as with
`kubectl apply --validate=strict`; `x-kubernetes-int-or-string` accepts both; list types `set`
and `map` reject duplicates; null values of mappings are dropped first, as the API server prunes
them. CEL rules (`x-kubernetes-validations`) are not evaluated (the pinned CRDs have none).
"""

import json
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema.protocols
import yaml

from verification.errors import UserError
from verification.models.schema.builtin import describe
from verification.paths import cache_dir
from verification.run import run
from verification.versions import versions
from verification.yamlio import read_text, strip_source

FETCH_COMMAND = "platform-verify crds fetch"
CACHE_FORMAT = 2  # bump when fetch() stores something different, so old caches count as missing


@dataclass(frozen=True)
class CrdSource:
    component: str  # key under `components:` in platform/versions.yaml
    module: str  # Go module path without the /vN major suffix
    directory: str  # the CRD YAML files inside the module
    groups: tuple[str, ...]  # API groups whose kinds these CRDs define

    @property
    def version(self) -> str:
        pins = versions().get("components", {})
        if self.component not in pins:
            raise UserError(f"platform/versions.yaml: components.{self.component} is not pinned")
        return str(pins[self.component])

    @property
    def module_path(self) -> str:
        """Go's semantic import versioning: v2 and later carry /vN in the module path."""
        major = int(self.version.lstrip("v").split(".")[0])
        return f"{self.module}/v{major}" if major >= 2 else self.module

    @property
    def cache(self) -> Path:
        return cache_dir() / "crds" / f"{self.component}-{self.version}"


SOURCES = (
    CrdSource("argocd", "github.com/argoproj/argo-cd", "manifests/crds", ("argoproj.io",)),
    CrdSource(
        "prometheus-operator",
        "github.com/prometheus-operator/prometheus-operator",
        "example/prometheus-operator-crd",
        ("monitoring.coreos.com",),
    ),
)


def source_for_group(group: str) -> CrdSource | None:
    return next((s for s in SOURCES if group in s.groups), None)


def group_of(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def is_custom(obj: dict[str, Any]) -> bool:
    """True for objects of a group whose CRDs this model knows."""
    return source_for_group(group_of(obj.get("apiVersion", ""))) is not None


# --- fetching (explicit command only) ---------------------------------------------------------


def fetch(source: CrdSource) -> Path:
    """Download the pinned module (Go module cache) and store its CRD schemas in the user cache."""
    if not shutil.which("go"):
        raise UserError(f"cannot fetch CRDs of {source.component}: the Go toolchain is missing")
    proc = run(["go", "mod", "download", "-json", f"{source.module_path}@{source.version}"], timeout=1800)
    module_dir = Path(json.loads(proc.stdout)["Dir"])
    crd_dir = module_dir / source.directory
    if not crd_dir.is_dir():
        raise UserError(f"{source.module_path}@{source.version} has no {source.directory}/ (CRD location moved?)")
    index: dict[str, str] = {}
    tmp = source.cache.with_name(source.cache.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for file in sorted(crd_dir.glob("*.yaml")):
        for doc in yaml.load_all(read_text(file), Loader=_CrdLoader):
            if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            reduced = {
                "group": spec["group"],
                "kind": spec["names"]["kind"],
                "scope": spec.get("scope", "Namespaced"),
                "origin": f"{source.module_path}@{source.version}/{source.directory}/{file.name}",
                "versions": {
                    v["name"]: _strip_descriptions(v["schema"]["openAPIV3Schema"])
                    for v in spec["versions"]
                    if v.get("served", True)
                },
            }
            name = f"{spec['group']}_{spec['names']['plural']}.json"
            (tmp / name).write_text(json.dumps(reduced, separators=(",", ":")))
            index[f"{spec['group']}/{spec['names']['kind']}"] = name
    if not index:
        raise UserError(f"{crd_dir}: no CustomResourceDefinition found")
    (tmp / "index.json").write_text(json.dumps({"format": CACHE_FORMAT, "kinds": index}, indent=1, sort_keys=True))
    shutil.rmtree(source.cache, ignore_errors=True)
    tmp.rename(source.cache)
    return source.cache


class _CrdLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # base chosen at runtime
    """Fast loader for megabytes of CRD YAML; a bare `=` (an enum value) is YAML 1.1's value tag."""


_CrdLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def _strip_descriptions(node: Any) -> Any:
    """The schema without its prose; `properties` keys are field names (a field may be `description`)."""
    if isinstance(node, list):
        return [_strip_descriptions(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _strip_descriptions(v) for k, v in node.items() if k not in ("description", "properties")}
    if isinstance(node.get("properties"), dict):
        out["properties"] = {name: _strip_descriptions(v) for name, v in node["properties"].items()}
    return out


def missing_sources() -> list[CrdSource]:
    return [s for s in SOURCES if _stored_format(s) != CACHE_FORMAT]


def _stored_format(source: CrdSource) -> int | None:
    try:
        stored: int | None = json.loads((source.cache / "index.json").read_text()).get("format")
        return stored
    except (OSError, ValueError, AttributeError):
        return None


def require_fetched() -> None:
    missing = missing_sources()
    if missing:
        names = ", ".join(f"{s.component} {s.version}" for s in missing)
        raise UserError(f"CRD schemas not fetched for {names}; run `{FETCH_COMMAND}`")


# --- schema translation -----------------------------------------------------------------------

# Keywords whose meaning is the same in OpenAPI v3.0 (as CRDs use it) and JSON Schema.
_COPIED = (
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "multipleOf",
    "required",
)

# Metadata of a custom resource: the API server validates it as ObjectMeta, not by the CRD.
_OBJECT_META = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "generateName": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "finalizers": {"type": "array", "items": {"type": "string"}},
        "ownerReferences": {"type": "array", "items": {"type": "object"}},
    },
}


def to_json_schema(node: dict[str, Any], *, structural: bool = True) -> dict[str, Any]:
    """A JSON Schema (2020-12) equivalent of one CRD openAPIV3Schema node.

    `structural` is False inside anyOf/oneOf/allOf/not: those branches only add value checks and
    never declare fields, so they must not reject the fields the outer schema declares.
    """
    out: dict[str, Any] = {k: node[k] for k in _COPIED if k in node}
    if node.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string"]
    elif "type" in node:
        out["type"] = [node["type"], "null"] if node.get("nullable") else node["type"]
    # OpenAPI v3.0 spells exclusive bounds as booleans next to minimum/maximum.
    if node.get("exclusiveMinimum") is True and "minimum" in node:
        out["exclusiveMinimum"] = out.pop("minimum")
    if node.get("exclusiveMaximum") is True and "maximum" in node:
        out["exclusiveMaximum"] = out.pop("maximum")
    if "properties" in node:
        out["properties"] = {k: to_json_schema(v, structural=structural) for k, v in node["properties"].items()}
    if "items" in node and isinstance(node["items"], dict):
        out["items"] = to_json_schema(node["items"], structural=structural)
    additional = node.get("additionalProperties")
    if isinstance(additional, dict):
        out["additionalProperties"] = to_json_schema(additional, structural=structural)
    elif isinstance(additional, bool):
        out["additionalProperties"] = additional
    elif structural and node.get("type") == "object" and not node.get("x-kubernetes-preserve-unknown-fields"):
        # The API server prunes undeclared fields; a manifest carrying one is a mistake.
        out["additionalProperties"] = False
    # List semantics the API server enforces: a `set` has unique items, a `map` unique keys.
    if node.get("x-kubernetes-list-type") == "set":
        out["uniqueItems"] = True
    elif node.get("x-kubernetes-list-type") == "map" and node.get("x-kubernetes-list-map-keys"):
        out[_MAP_KEYS] = list(node["x-kubernetes-list-map-keys"])
    for key in ("anyOf", "oneOf", "allOf"):
        if key in node:
            out[key] = [to_json_schema(branch, structural=False) for branch in node[key]]
    if "not" in node:
        out["not"] = to_json_schema(node["not"], structural=False)
    return out


_MAP_KEYS = "x-list-map-keys"


def _unique_map_keys(validator: Any, keys: list[str], instance: Any, schema: Any) -> Any:
    if not isinstance(instance, list):
        return
    seen: set[tuple[Any, ...]] = set()
    for item in instance:
        if not isinstance(item, dict):
            continue
        key = tuple(json.dumps(item.get(k), sort_keys=True) for k in keys)
        if key in seen:
            shown = ", ".join(f"{k}={item.get(k)!r}" for k in keys)
            yield jsonschema.ValidationError(f"duplicate entry with {shown} (list keys must be unique)")
        seen.add(key)


# types-jsonschema leaves extend() unannotated; it returns a validator class like the one it extends.
_Validator: type[jsonschema.protocols.Validator] = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    jsonschema.Draft202012Validator, {_MAP_KEYS: _unique_map_keys}
)


def _root_schema(node: dict[str, Any]) -> dict[str, Any]:
    schema = to_json_schema(node)
    props = schema.setdefault("properties", {})
    props["apiVersion"] = {"type": "string"}
    props["kind"] = {"type": "string"}
    props["metadata"] = _OBJECT_META
    return schema


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


# --- validation -------------------------------------------------------------------------------


@cache
def _index(source: CrdSource) -> dict[str, str]:
    require_fetched()
    kinds: dict[str, str] = json.loads((source.cache / "index.json").read_text())["kinds"]
    return kinds


@cache
def _crd(source: CrdSource, group: str, kind: str) -> dict[str, Any] | None:
    name = _index(source).get(f"{group}/{kind}")
    return json.loads((source.cache / name).read_text()) if name else None


@cache
def _validator(source: CrdSource, group: str, kind: str, version: str) -> jsonschema.protocols.Validator:
    crd = _crd(source, group, kind)
    assert crd is not None
    return _Validator(_root_schema(crd["versions"][version]))


def validate_document(obj: dict[str, Any]) -> list[str]:
    """Schema violations of one custom resource as `path: problem` (empty when valid)."""
    api_version = obj.get("apiVersion", "")
    group, _, version = api_version.partition("/")
    kind = obj.get("kind", "")
    source = source_for_group(group)
    if source is None:
        return [
            f"<root>: no CRD source for API group {group!r} (known: {', '.join(g for s in SOURCES for g in s.groups)})"
        ]
    crd = _crd(source, group, kind)
    pinned = f"{source.component} {source.version}"
    if crd is None:
        return [f"kind: {kind} is not a kind of {group} in {pinned}"]
    if version not in crd["versions"]:
        served = ", ".join(sorted(crd["versions"]))
        return [f"apiVersion: {api_version} is not served by {pinned} (served: {served})"]
    validator = _validator(source, group, kind, version)
    errors = sorted(validator.iter_errors(_drop_nulls(obj)), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {_short(e)}" for e in errors]


def validate(obj: dict[str, Any]) -> list[str]:
    """Violations of a loaded manifest, each prefixed with its source file and object name."""
    return [f"{describe(obj)}: {problem}" for problem in validate_document(strip_source(obj))]


def _short(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties" and error.validator_value is False:
        return error.message.replace("Additional properties are not allowed", "unknown field")
    return error.message if len(error.message) < 200 else error.message[:197] + "..."
