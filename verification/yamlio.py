"""The one YAML loader: multi-document files, directories, `kind: List`, clear errors."""

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from verification.errors import UserError

YAML_SUFFIXES = (".yaml", ".yml")
# libyaml parses the manifests ~7x faster than the pure-Python loader; same safe semantics.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_file(path: Path) -> Any:
    """A single-document YAML file (intent, values, workloads)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        return yaml.load(path.read_text(), Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: malformed YAML: {_describe(exc)}") from None


def load_documents_from_text(text: str, origin: str) -> list[dict[str, Any]]:
    """Every Kubernetes object in a multi-document YAML text, Lists flattened."""
    try:
        docs = list(yaml.load_all(text, Loader=_LOADER))
    except yaml.YAMLError as exc:
        raise UserError(f"{origin}: malformed YAML: {_describe(exc)}") from None
    objects: list[dict[str, Any]] = []
    for doc in docs:
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise UserError(f"{origin}: expected a Kubernetes object (a mapping), got {type(doc).__name__}")
        if doc.get("kind") == "List" or (doc.get("kind", "").endswith("List") and "items" in doc):
            for item in doc.get("items") or []:
                objects.append(_check_object(item, origin))
        else:
            objects.append(_check_object(doc, origin))
    return objects


def _check_object(obj: Any, origin: str) -> dict[str, Any]:
    if not isinstance(obj, dict) or "kind" not in obj or "apiVersion" not in obj:
        raise UserError(f"{origin}: object without apiVersion/kind: {str(obj)[:80]}")
    obj.setdefault("metadata", {})
    obj["metadata"].setdefault("annotations", {})
    return obj


def yaml_files(path: Path) -> list[Path]:
    path = Path(path)
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())
    raise UserError(f"{path}: no such file or directory (give a manifest file or directory)")


def load_manifests(paths: Iterable[Path | str]) -> list[dict[str, Any]]:
    """Kubernetes objects from files or directories (recursive), tagged with their source file."""
    objects: list[dict[str, Any]] = []
    for root in paths:
        for file in yaml_files(Path(root)):
            for obj in load_documents_from_text(file.read_text(), str(file)):
                obj["metadata"]["annotations"].setdefault(SOURCE_ANNOTATION, str(file))
                objects.append(obj)
    return objects


SOURCE_ANNOTATION = "platform-verify/source"


def source_of(obj: dict[str, Any]) -> str:
    return (obj.get("metadata", {}).get("annotations") or {}).get(SOURCE_ANNOTATION, "<unknown>")


def strip_source(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy without the bookkeeping annotation (for schema checks and cluster apply)."""
    import copy

    clean = copy.deepcopy(obj)
    annotations = clean.get("metadata", {}).get("annotations") or {}
    annotations.pop(SOURCE_ANNOTATION, None)
    if not annotations:
        clean["metadata"].pop("annotations", None)
    return clean


def iter_kind(objects: Iterable[dict[str, Any]], *kinds: str) -> Iterator[dict[str, Any]]:
    return (o for o in objects if o.get("kind") in kinds)


def _describe(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return problem
