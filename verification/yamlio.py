"""The one YAML loader: every file the suite reads goes through here.

Multi-document files, directories, `kind: List`, and one clear line for every kind of bad input:
- bytes that are not UTF-8:       `FILE: not UTF-8 text at byte N`
- malformed or truncated YAML:    `FILE: malformed YAML: line L, column C: <problem>`
- a duplicate mapping key:        `FILE: line L: duplicate key 'k' (first on line M)`; Kubernetes
  clients (client-go, kubectl) refuse these, so last-one-wins here would verify a different object.
- nesting deeper than MAX_DEPTH levels (also guards libyaml's recursive composer, which crashes
  the process somewhere beyond ~20,000 levels);
- aliases that expand past MAX_EXPANDED_NODES nodes and past ALIAS_RATIO x the nodes actually
  written (a "billion laughs" bomb: a few hundred bytes that expand to billions of nodes as soon
  as a model walks or copies the result).
The depth/alias scan walks libyaml's event stream and runs only when a cheap textual bound says
the file could break a limit, so ordinary manifests pay nothing for it.
"""

import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml

from verification.errors import UserError

YAML_SUFFIXES = (".yaml", ".yml")
MAX_DEPTH = 100  # Kubernetes objects nest ~20 levels; Python's own recursion limit is 1,000 frames
MAX_EXPANDED_NODES = 100_000  # alias expansion is refused only beyond both this ...
ALIAS_RATIO = 10  # ... and this many times the nodes written in the document

# libyaml parses the manifests ~7x faster than the pure-Python loader; same safe semantics.
_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ANCHOR = re.compile(r"(?:^|[\s\[{,])&[^\s,\[\]{}]")
_ALIAS = re.compile(r"(?:^|[\s\[{,:])\*[^\s,\[\]{}]")
_LEADING = re.compile(r"^[ ?:-]*", re.M)
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Mark(Protocol):
    """Where libyaml's or the pure-Python parser's event starts (two classes, the same field)."""

    line: int  # 0-based


class _Refused(yaml.MarkedYAMLError):
    """A well-formed document this loader refuses (duplicate key, too deep, alias bomb)."""

    def __init__(self, problem: str, mark: _Mark | None) -> None:
        super().__init__(problem=problem)
        self.line = mark.line + 1 if mark is not None else 0  # 1-based, as in the message


class Loader(_BASE):  # type: ignore[misc, valid-type]  # the base is chosen at runtime (libyaml or not)
    """The safe loader (libyaml when available) that refuses duplicate mapping keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        nodes = [k for k, _ in node.value if isinstance(k, yaml.ScalarNode) and k.tag != _MERGE_TAG]
        keys = [(k.tag, k.value) for k in nodes]
        if len(set(keys)) != len(keys):  # rare: only then find which key, for the message
            seen: dict[tuple[str, str], yaml.Node] = {}
            for key, key_node in zip(keys, nodes, strict=True):
                if key in seen:
                    raise _Refused(
                        problem=f"duplicate key {key_node.value!r} (first on line {seen[key].start_mark.line + 1}); "
                        "remove one",
                        mark=key_node.start_mark,
                    )
                seen[key] = key_node
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        return mapping


def read_text(path: Path | str) -> str:
    """A text file decoded as UTF-8, or one line naming the file and the first bad byte."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory (give a file)") from None
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text at byte {exc.start} (a binary file? save it as UTF-8)") from None


def parse_all(text: str, origin: str, loader: type[Loader] = Loader) -> list[Any]:
    """Every document of a YAML text, checked as the module docstring says. `loader`: a subclass
    that adds constructors for a dialect's tags (GitLab CI's `!reference`), refusing the same."""
    _check_structure(text, origin)
    try:
        return list(yaml.load_all(text, Loader=loader))
    except _Refused as exc:
        raise UserError(f"{origin}: line {exc.line}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{origin}: malformed YAML: {_describe(exc)}") from None


def parse(text: str, origin: str, loader: type[Loader] = Loader) -> Any:
    """A single-document YAML text (None when empty)."""
    docs = parse_all(text, origin, loader)
    if len(docs) > 1:
        raise UserError(f"{origin}: {len(docs)} YAML documents, expected one (remove the `---` separators)")
    return docs[0] if docs else None


def load_file(path: Path | str) -> Any:
    """A single-document YAML file (intent, values, workloads)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    return parse(read_text(path), str(path))


def load_list(path: Path | str, what: str) -> list[Any]:
    """A single-document YAML file holding a list (an empty file: none), else one line saying so."""
    data = load_file(path)
    if data is None:
        return []
    if not isinstance(data, list):
        raise UserError(f"{path}: expected a list of {what}, got {type(data).__name__}")
    return data


def only_fields(data: Any, allowed: Collection[str], where: str, required: Iterable[str] = ()) -> dict[str, Any]:
    """`data` when it is a mapping with no field outside `allowed` and every one of `required`, else
    one line naming `where` and the fields: a typo in a hand-written file fails instead of being ignored."""
    known = ", ".join(sorted(allowed))
    if not isinstance(data, dict):
        raise UserError(f"{where}: expected a mapping with {known}, got {type(data).__name__}")
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise UserError(f"{where}: unknown field(s) {', '.join(unknown)} (known: {known})")
    missing = [name for name in required if name not in data]
    if missing:
        raise UserError(f"{where}: missing field(s) {', '.join(missing)}")
    return data


def load_documents_from_text(text: str, origin: str) -> list[dict[str, Any]]:
    """Every Kubernetes object in a multi-document YAML text, Lists flattened."""
    objects: list[dict[str, Any]] = []
    for doc in parse_all(text, origin):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise UserError(f"{origin}: expected a Kubernetes object (a mapping), got {type(doc).__name__}")
        kind = doc.get("kind")
        if kind == "List" or (isinstance(kind, str) and kind.endswith("List") and "items" in doc):
            items = doc.get("items") or []
            if not isinstance(items, list):
                raise UserError(f"{origin}: {kind}.items must be a list, got {type(items).__name__}")
            objects.extend(_check_object(item, origin) for item in items)
        else:
            objects.append(_check_object(doc, origin))
    return objects


def _check_object(obj: Any, origin: str) -> dict[str, Any]:
    if not isinstance(obj, dict) or "kind" not in obj or "apiVersion" not in obj:
        raise UserError(f"{origin}: object without apiVersion/kind: {_short(obj)}")
    if not isinstance(obj["kind"], str) or not isinstance(obj["apiVersion"], str):
        raise UserError(f"{origin}: apiVersion and kind must be strings: {_short(obj)}")
    metadata = obj.setdefault("metadata", {})
    if metadata is None:
        metadata = obj["metadata"] = {}
    if not isinstance(metadata, dict):
        raise UserError(f"{origin}: {obj['kind']}: metadata must be a mapping, got {type(metadata).__name__}")
    if metadata.get("annotations") is None:
        metadata["annotations"] = {}
    elif not isinstance(metadata["annotations"], dict):
        raise UserError(f"{origin}: {obj['kind']}: metadata.annotations must be a mapping")
    return obj


def _short(obj: Any) -> str:
    if isinstance(obj, dict):
        return "{" + ", ".join(repr(k) for k in list(obj)[:5]) + (", ..." if len(obj) > 5 else "") + "}"
    return type(obj).__name__


def yaml_files(path: Path) -> list[Path]:
    path = Path(path)
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())
    raise UserError(f"{path}: no such file or directory (give a manifest file or directory)")


def load_manifests(paths: Iterable[Path | str]) -> list[dict[str, Any]]:
    """Kubernetes objects from files or directories (recursive), tagged with their source file.

    A root that holds no object is an error: every answer computed from it would be vacuous.
    """
    objects: list[dict[str, Any]] = []
    for root in paths:
        found = 0
        for file in yaml_files(Path(root)):
            for obj in load_documents_from_text(read_text(file), str(file)):
                obj["metadata"]["annotations"].setdefault(SOURCE_ANNOTATION, str(file))
                objects.append(obj)
                found += 1
        if not found:
            what = "no .yaml/.yml files" if Path(root).is_dir() and not yaml_files(Path(root)) else "no objects"
            raise UserError(f"{root}: {what} (give a file or directory of Kubernetes manifests)")
    return objects


SOURCE_ANNOTATION = "platform-verify/source"
_Object = TypeVar("_Object", bound=Mapping[str, Any])  # a Kubernetes object, mutable or not


def source_of(obj: Mapping[str, Any]) -> str:
    source: str = (obj.get("metadata", {}).get("annotations") or {}).get(SOURCE_ANNOTATION, "<unknown>")
    return source


def strip_source(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy without the bookkeeping annotation (for schema checks and cluster apply)."""
    import copy

    clean = copy.deepcopy(obj)
    annotations = clean.get("metadata", {}).get("annotations") or {}
    annotations.pop(SOURCE_ANNOTATION, None)
    if not annotations:
        clean["metadata"].pop("annotations", None)
    return clean


def iter_kind(objects: Iterable[_Object], *kinds: str) -> Iterator[_Object]:
    return (o for o in objects if o.get("kind") in kinds)


def _may_exceed_limits(text: str) -> bool:
    """A cheap upper bound: False guarantees the text is within MAX_DEPTH and has no alias.

    Block nesting needs a wider indentation (or a `- `/`? ` indicator) per level, so it is bounded
    by the longest leading run of spaces and indicators; flow nesting by the count of non-empty
    brackets.
    """
    if _ANCHOR.search(text) and _ALIAS.search(text):
        return True
    flow = text.count("[") - text.count("[]") + text.count("{") - text.count("{}")
    if flow + 3 > MAX_DEPTH:
        return True
    return max(map(len, _LEADING.findall(text)), default=0) + flow + 3 > MAX_DEPTH


def _check_structure(text: str, origin: str) -> None:
    """Depth and alias expansion from libyaml's event stream: flat, so any depth is safe here."""
    if not _may_exceed_limits(text):
        return
    parser = _BASE(text)
    stack: list[list[Any]] = []  # per open collection: [expanded size, anchor]
    sizes: dict[str | None, int] = {}  # anchor -> expanded node count of what it names (an alias has one)
    written = expanded = 0
    try:
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, yaml.DocumentStartEvent):
                sizes.clear()
                written = expanded = 0
                continue
            if isinstance(event, yaml.AliasEvent):
                added = sizes.get(event.anchor, 1)
            elif isinstance(event, yaml.ScalarEvent):
                added = 1
                if event.anchor:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.CollectionStartEvent):
                written += 1
                expanded += 1
                stack.append([1, event.anchor])
                if len(stack) > MAX_DEPTH:
                    raise _Refused(
                        problem=f"nesting deeper than {MAX_DEPTH} levels; flatten the document",
                        mark=event.start_mark,
                    )
                continue
            elif isinstance(event, yaml.CollectionEndEvent):
                added, anchor = stack.pop()
                if anchor:
                    sizes[anchor] = added
                if stack:
                    stack[-1][0] += added
                continue
            else:
                continue
            written += 1
            expanded += added
            if stack:
                stack[-1][0] += added
            if expanded > MAX_EXPANDED_NODES and expanded > ALIAS_RATIO * written:
                raise _Refused(
                    problem=f"aliases expand to more than {MAX_EXPANDED_NODES:,} nodes from {written:,} written "
                    "(an alias bomb?); write the values out instead of aliasing them",
                    mark=event.start_mark,
                )
    except _Refused as exc:
        raise UserError(f"{origin}: line {exc.line}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        # PyYAML >= 6.0.4 bundles a libyaml whose scanner stops at 1,000 levels while reading ahead,
        # before this loop has seen 100: the same refusal, in the same words.
        mark = getattr(exc, "problem_mark", None)
        if mark is not None and "maximum nesting depth" in str(getattr(exc, "problem", "")):
            raise UserError(
                f"{origin}: line {mark.line + 1}: nesting deeper than {MAX_DEPTH} levels; flatten the document"
            ) from None
        raise UserError(f"{origin}: malformed YAML: {_describe(exc)}") from None
    finally:
        parser.dispose()


def _describe(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    if isinstance(exc, yaml.reader.ReaderError):
        return f"character {exc.position + 1}: {problem}"
    return problem
