"""Edit operations of a mutant, applied to a file's text.

YAML operations work on the document selected by kind+name(+namespace) of a multi-document file
(or on the only document of a file without `select`):
  set     path -> value (the parent must exist; the key may be new)
  delete  path (an empty path deletes the whole document)
  append  value to the list at path
  rename  the key at path to `to`
Text operations work on the raw text (templates, embedded configurations):
  replace `old` -> `new` (`old` must occur exactly once unless `count` says how often)
  call    a named Python function of verification.mutants.functions (text, **args) -> text

An edit that does not apply (file, document, path or text missing, or an edit that changes
nothing) raises StaleEdit: the catalog no longer matches the platform, which is never a survivor.
"""

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from verification.mutants.functions import FUNCTIONS

YAML_OPS = ("set", "delete", "append", "rename")
TEXT_OPS = ("replace", "call")
OPS = YAML_OPS + TEXT_OPS


class StaleEdit(Exception):
    """The edit does not apply to today's file."""


class _Loader(yaml.SafeLoader):
    """Unknown tags (GitLab's `!reference`) are kept, so a CI file survives a round trip."""


class _Tagged:
    def __init__(self, tag: str, value: Any) -> None:
        self.tag, self.value = tag, value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Tagged) and (self.tag, self.value) == (other.tag, other.value)


def _construct_tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> _Tagged:
    if isinstance(node, yaml.SequenceNode):
        value: Any = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        value = loader.construct_scalar(node)  # type: ignore[arg-type]  # what remains is a ScalarNode
    return _Tagged("!" + suffix, value)


_Loader.add_multi_constructor("!", _construct_tagged)
YamlLoader = _Loader  # for callers that check a mutated file still parses


class _Dumper(yaml.SafeDumper):
    pass


def _represent_tagged(dumper: yaml.SafeDumper, data: _Tagged) -> yaml.Node:
    if isinstance(data.value, list):
        return dumper.represent_sequence(data.tag, data.value, flow_style=True)
    if isinstance(data.value, dict):
        return dumper.represent_mapping(data.tag, data.value)
    return dumper.represent_scalar(data.tag, str(data.value))


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    # Block style for multi-line strings keeps embedded configurations (rules, JSON) readable.
    style = "|" if "\n" in data and all(ord(c) >= 32 or c == "\n" for c in data) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(_Tagged, _represent_tagged)
_Dumper.add_representer(str, _represent_str)


_SEGMENT = re.compile(
    r"""\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<key>[^.\[\]"']+)|\[(?P<index>-?\d+)\]|\[(?P<mk>[^=\]]+)=(?P<mv>[^\]]*)\])"""
)


@dataclass(frozen=True)
class Match:
    """A list element selected by one of its keys: `containers[name=app]`."""

    key: str
    value: str


Segment = str | int | Match


def parse_path(path: str | list[Any] | None) -> tuple[Segment, ...]:
    """`a.b[0].c[name=x]."dotted.key"` (or a YAML list of keys and indices) as segments."""
    if path is None or path == "":
        return ()
    if isinstance(path, list):
        return tuple(p if isinstance(p, int) else str(p) for p in path)
    segments: list[Segment] = []
    pos = 0
    while pos < len(path):
        if path[pos] == ".":
            pos += 1
            continue
        found = _SEGMENT.match(path, pos)
        if not found or found.end() == pos:
            raise ValueError(f"path {path!r}: cannot parse at {path[pos:]!r}")
        if found["index"] is not None:
            segments.append(int(found["index"]))
        elif found["mk"] is not None:
            segments.append(Match(found["mk"].strip(), found["mv"].strip()))
        else:
            segments.append(next(v for v in (found["dq"], found["sq"], found["key"]) if v is not None).strip())
        pos = found.end()
    return tuple(segments)


@dataclass(frozen=True)
class Edit:
    op: str
    select: dict[str, str] = field(default_factory=dict)
    path: tuple[Segment, ...] = ()
    value: Any = None
    to: str | None = None
    old: str | None = None
    new: str | None = None
    count: int = 1
    function: str | None = None
    args: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        where = ",".join(f"{k}={v}" for k, v in self.select.items())
        if self.op in TEXT_OPS:
            return f"{self.op} {self.function or repr(self.old)[:60]}"
        return f"{self.op} {format_path(self.path) or '<document>'}" + (f" in {where}" if where else "")


_EDIT_KEYS = {"op", "select", "path", "value", "to", "old", "new", "count", "function", "args"}


def edit_from_data(data: Any) -> Edit:
    """One edit from the catalog; ValueError names what is wrong."""
    if not isinstance(data, dict):
        raise ValueError(f"an edit must be a mapping, got {type(data).__name__}")
    unknown = set(data) - _EDIT_KEYS
    if unknown:
        raise ValueError(f"unknown edit field(s) {sorted(unknown)} (known: {sorted(_EDIT_KEYS)})")
    op = data.get("op")
    if op not in OPS:
        raise ValueError(f"edit op {op!r} is not one of {list(OPS)}")
    select = data.get("select") or {}
    if not isinstance(select, dict) or set(select) - {"kind", "name", "namespace"}:
        raise ValueError(f"select must be a mapping of kind/name/namespace, got {select!r}")
    required = {"set": ("path", "value"), "append": ("path", "value"), "rename": ("path", "to"), "delete": ()}
    required |= {"replace": ("old", "new"), "call": ("function",)}
    missing = [key for key in required[op] if key not in data]
    if missing:
        raise ValueError(f"edit op {op} needs {missing}")
    if op == "delete" and "path" not in data and not select:
        raise ValueError("delete of a whole document needs select")
    return Edit(
        op=op,
        select={k: str(v) for k, v in select.items()},
        path=parse_path(data.get("path")),
        count=int(data.get("count", 1)),
        args=dict(data.get("args") or {}),
        **{key: data.get(key) for key in ("value", "to", "old", "new", "function")},
    )


def format_path(path: tuple[Segment, ...]) -> str:
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
        elif isinstance(seg, Match):
            out += f"[{seg.key}={seg.value}]"
        else:
            out += ("." if out else "") + (f'"{seg}"' if re.search(r"[.\[\]=]", seg) else seg)
    return out


def _step(node: Any, seg: Segment, where: str) -> Any:
    if isinstance(seg, int):
        if not isinstance(node, list) or not -len(node) <= seg < len(node):
            raise StaleEdit(f"{where}: no list element [{seg}]")
        return node[seg]
    if isinstance(seg, Match):
        return node[_match_index(node, seg, where)]
    if not isinstance(node, dict) or seg not in node:
        raise StaleEdit(f"{where}: no key {seg!r}")
    return node[seg]


def _match_index(node: Any, seg: Match, where: str) -> int:
    if not isinstance(node, list):
        raise StaleEdit(f"{where}: [{seg.key}={seg.value}] needs a list")
    hits = [i for i, item in enumerate(node) if isinstance(item, dict) and str(item.get(seg.key)) == seg.value]
    if len(hits) != 1:
        raise StaleEdit(f"{where}: {len(hits)} elements with {seg.key}={seg.value}, expected exactly 1")
    return hits[0]


def _key(parent: Any, seg: Segment, where: str, *, may_be_new: bool) -> Any:
    """The index or key of `seg` in `parent` (checked to exist unless a new key may be set)."""
    if isinstance(seg, Match):
        return _match_index(parent, seg, where)
    if isinstance(seg, int):
        _step(parent, seg, where)
        return seg
    if not isinstance(parent, dict):
        raise StaleEdit(f"{where}: not a mapping")
    if not may_be_new and seg not in parent:
        raise StaleEdit(f"{where}: no key {seg!r}")
    return seg


def apply_to_document(doc: Any, edit: Edit) -> Any:
    """The document after the edit (a copy); None when the edit deletes the document."""
    if edit.op == "delete" and not edit.path:
        return None
    doc = copy.deepcopy(doc)
    *parents, last = edit.path
    node = doc
    walked: tuple[Segment, ...] = ()
    for seg in parents:
        walked += (seg,)
        node = _step(node, seg, format_path(walked))
    where = format_path(edit.path)
    if edit.op == "set":
        node[_key(node, last, where, may_be_new=True)] = copy.deepcopy(edit.value)
    elif edit.op == "delete":
        del node[_key(node, last, where, may_be_new=False)]
    elif edit.op == "append":
        target = node[_key(node, last, where, may_be_new=False)]
        if not isinstance(target, list):
            raise StaleEdit(f"{where}: append needs a list, found {type(target).__name__}")
        target.append(copy.deepcopy(edit.value))
    elif edit.op == "rename":
        key = _key(node, last, where, may_be_new=False)
        if not isinstance(key, str) or edit.to in node:
            raise StaleEdit(f"{where}: cannot rename to {edit.to!r}")
        # Keep the key's position: a rename changes a name, not the order a reader sees.
        items = [(edit.to if k == key else k, v) for k, v in node.items()]
        node.clear()
        node.update(items)
    return doc


def _selected(doc: Any, select: dict[str, str]) -> bool:
    if not isinstance(doc, dict):
        return False
    meta = doc.get("metadata") or {}
    have = {"kind": doc.get("kind"), "name": meta.get("name"), "namespace": meta.get("namespace")}
    return all(str(have[k]) == v for k, v in select.items())


def apply_yaml(text: str, edit: Edit) -> str:
    try:
        docs = list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as exc:
        raise StaleEdit(f"not YAML any more ({str(exc).splitlines()[0]})") from None
    hits = [i for i, d in enumerate(docs) if (_selected(d, edit.select) if edit.select else d is not None)]
    if len(hits) != 1:
        what = ",".join(f"{k}={v}" for k, v in edit.select.items()) or "a single document"
        raise StaleEdit(f"{len(hits)} documents match {what}, expected exactly 1")
    index = hits[0]
    changed = apply_to_document(docs[index], edit)
    if changed == docs[index]:
        raise StaleEdit(f"{edit.describe()}: changes nothing (the value is already there)")
    if changed is None:
        del docs[index]
    else:
        docs[index] = changed
    return yaml.dump_all(docs, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)


def apply_text(text: str, edit: Edit, functions: dict[str, Callable[..., str]]) -> str:
    if edit.op == "replace":
        assert edit.old is not None and edit.new is not None
        found = text.count(edit.old)
        if found != edit.count:
            raise StaleEdit(f"text {edit.old[:70]!r} occurs {found} time(s), expected {edit.count}")
        return text.replace(edit.old, edit.new)
    if edit.function not in functions:
        raise StaleEdit(f"no mutant function {edit.function!r} (known: {sorted(functions)})")
    result = functions[edit.function](text, **edit.args)
    if result == text:
        raise StaleEdit(f"function {edit.function} changes nothing")
    return result


def apply(text: str, edit: Edit, functions: dict[str, Callable[..., str]] | None = None) -> str:
    """The file's text after one edit, or StaleEdit."""
    if edit.op in YAML_OPS:
        return apply_yaml(text, edit)
    return apply_text(text, edit, FUNCTIONS if functions is None else functions)
