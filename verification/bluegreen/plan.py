"""The plan of a switch or rollback: what the flip would change, field by field, and whether it may.

A flip may change only what follows from `activeColor`. Which fields those are is not listed
here: the same values are rendered with each active colour, and the fields that differ between
the two renders are the colour's (so a chart change cannot slip a new field past the rule).
Every other difference between what is deployed (the release's stored manifest, or the live
objects) and what the flip would apply is refused: it is a deploy to the idle colour.

Pure functions over objects (dicts), unit-tested with hand-written objects and real renders
(tests/bluegreen/test_plan.py); the I/O that fetches them lives in release.py, gitops.py, kube.py.
"""

import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

ABSENT = "<absent>"  # a field or object that does not exist on one side
OBJECT = "(object)"  # the pseudo-field of a whole object added or removed
Flat = dict[str, dict[str, Any]]  # object key ("Kind/name") -> field path -> leaf value


def object_key(obj: Mapping[str, Any]) -> str:
    return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"


def _named(items: list[Any]) -> bool:
    """A list of mappings each with a distinct `name` (containers, env, ports, volumes)."""
    names = [i.get("name") for i in items if isinstance(i, Mapping)]
    return len(names) == len(items) and all(isinstance(n, str) for n in names) and len(set(names)) == len(names)


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """Leaf fields of an object as `a.b[name].c` -> value. Lists of named mappings are keyed by
    name (so the table says `env[LOG_LEVEL]`, not `env[6]`); lists of scalars are one leaf; empty
    mappings and lists are no fields (the API server drops them too)."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{path}.{key}" if path else str(key)))
        return out
    if isinstance(value, list) and value and all(isinstance(i, Mapping) for i in value):
        out = {}
        keyed = _named(value)
        for index, item in enumerate(value):
            if keyed:  # the name is in the path; an element with nothing else is the name alone
                element = f"{path}[{item['name']}]"
                out.update(flatten({k: v for k, v in item.items() if k != "name"}, element) or {element: item["name"]})
            else:
                out.update(flatten(item, f"{path}[{index}]"))
        return out
    if isinstance(value, list | Mapping) and not value:
        return {}
    return {path: value}


def flatten_objects(objects: Iterable[Mapping[str, Any]]) -> Flat:
    return {object_key(o): flatten({k: v for k, v in o.items() if k != "status"}) for o in objects}


def _compared(path: str, subset: bool) -> bool:
    """Live objects carry the server's own metadata (uid, resourceVersion, managed fields) and the
    tracking labels a GitOps controller adds, none of which a render describes: against live
    objects, an object's own metadata is not compared (its spec and pod template labels are)."""
    return not subset or not path.startswith("metadata.") or path == "metadata.name"


@dataclass(frozen=True)
class Change:
    """One field (or whole object) that differs between what is deployed and what is planned."""

    obj: str
    path: str
    live: Any
    planned: Any
    colour: bool = False  # follows from activeColor alone
    why: str = ""  # where the planned value comes from, when not the colour


def diff(live: Flat, planned: Flat, *, subset: bool = False) -> list[tuple[str, str, Any, Any]]:
    """(object, field, live, planned) for every difference. `subset`: live objects carry fields
    the server added (defaults, status, metadata), so only the planned fields are compared."""
    found = []
    for key in sorted(set(live) | set(planned)):
        if key not in planned:
            if not subset:
                found.append((key, OBJECT, "exists", "deleted"))
            continue
        if key not in live:
            found.append((key, OBJECT, ABSENT, "created"))
            continue
        mine, theirs = live[key], planned[key]
        paths = set(theirs) if subset else set(mine) | set(theirs)
        for path in sorted(p for p in paths if _compared(p, subset)):
            a, b = mine.get(path, ABSENT), theirs.get(path, ABSENT)
            if a != b:
                found.append((key, path, a, b))
    return found


def colour_fields(active: Flat, other: Flat) -> dict[tuple[str, str], tuple[Any, Any]]:
    """Fields that differ between two renders of the same values with the two active colours:
    (object, field) -> (value with `active`, value with the other colour)."""
    return {(o, p): (b, a) for o, p, a, b in diff(other, active)}


def classify(live: Flat, planned: Flat, planned_other: Flat, *, subset: bool = False, why: str = "") -> list[Change]:
    """Every difference between live and planned; a difference follows from the colour when
    the field is one of the colour's AND the live value is what the other colour renders."""
    colours = colour_fields(planned, planned_other)
    changes = []
    for obj, path, a, b in diff(live, planned, subset=subset):
        expected = colours.get((obj, path))
        is_colour = expected is not None and expected == (b, a)
        changes.append(Change(obj, path, a, b, is_colour, "" if is_colour else why))
    return changes


@dataclass
class Plan:
    """What a flip to `to` would change; `values` is exactly what it applies."""

    app: str
    action: str  # switch | rollback
    to: str
    changes: list[Change] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    restore: dict[str, Any] = field(default_factory=dict)  # what was deployed (the undo applies it)
    notes: list[str] = field(default_factory=list)  # one-line reasons shown above the table
    remedy: str = ""  # the command that deploys a refused difference the right way

    @property
    def refused(self) -> list[Change]:
        return [] if self.action == "deploy" else [c for c in self.changes if not c.colour]

    @property
    def allowed(self) -> bool:
        return not self.refused and not self.notes

    def merge(self, changes: Iterable[Change]) -> None:
        """Add changes found by another comparison; one row per (object, field, planned value)."""
        seen = {(c.obj, c.path, _show(c.planned)) for c in self.changes}
        for c in changes:
            if (c.obj, c.path, _show(c.planned)) not in seen:
                self.changes.append(c)
                seen.add((c.obj, c.path, _show(c.planned)))

    def summary(self) -> str:
        """One line: what was refused and what to do instead."""
        if self.notes:
            return self.notes[0]
        whys = sorted({c.why for c in self.refused})
        return (
            f"refusing to {self.action} {self.app} to {self.to}: {len(self.refused)} difference(s) besides the "
            f"colour ({'; '.join(whys)}; the plan above lists them); {self.remedy}"
        )

    def table(self) -> Table:
        verdict = "deploy" if self.action == "deploy" else ("allowed" if self.allowed else "REFUSED")
        table = Table(title=f"plan: {self.action} {self.app} to {self.to}: {verdict}", title_justify="left")
        for column in ("object", "field", "live", "planned", "verdict"):
            table.add_column(column, overflow="fold")
        for c in sorted(self.changes, key=lambda c: (c.colour is False, c.obj, c.path)):
            refused = "deployed" if self.action == "deploy" else f"refused: {c.why or 'not the colour'}"
            why = "follows from activeColor" if c.colour else refused
            table.add_row(*(Text(x) for x in (c.obj, c.path, _show(c.live), _show(c.planned), why)))
        if not self.changes:
            table.add_row("(nothing)", "", "", "", "no difference at all")
        return table

    def text(self) -> str:
        """The plan as plain text (for logs and reports)."""
        console = Console(record=True, width=200, file=io.StringIO())
        for note in self.notes:
            console.print(note, highlight=False, markup=False)
        console.print(self.table())
        if self.refused and self.remedy:
            console.print(self.remedy, highlight=False, markup=False)
        return console.export_text()


def _show(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= width else text[: width - 1] + "…"


def remedy(app: str, env: str, idle: str, version: str | None) -> str:
    """The right way to roll out what a flip may not: deploy to the idle colour, verify, switch."""
    v = f" --version {version}" if version else ""
    return (
        f"a switch moves traffic only; roll this out as a deploy to the idle colour {idle}: "
        f"`platform-verify bluegreen deploy {app} --env {env}{v}`, verify it through {app}-preview, then "
        f"`platform-verify bluegreen switch {app} --env {env}{v}`"
    )
