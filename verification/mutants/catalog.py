"""The mutant catalog: data under verification/mutants/catalog/<area>.yaml, read strictly.

Each file is a list of mutants:
  - id: rbac-deployer-wildcard-verbs       # unique over the catalog, starts with the area
    description: one line: the realistic misconfiguration
    file: platform/manifests/rbac/app-deployer.yaml   # the file the edits change
    edits: [{op: set, select: {kind: Role, name: ..., namespace: ...}, path: rules[0].verbs, value: ["*"]}]
    equivalent: why the platform behaves the same (optional; such a mutant is not expected to die)
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verification import yamlio
from verification.errors import UserError
from verification.mutants.edits import Edit, edit_from_data

CATALOG_DIR = Path(__file__).resolve().parent / "catalog"
AREAS = ("rbac", "netpol", "podsecurity", "charts", "monitoring", "argocd", "ci", "quotas", "admission", "references")
_KEYS = {"id", "description", "file", "edits", "equivalent"}
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# What a mutant may edit: the platform, and the pipeline's root file that includes platform/ci.
_EDITABLE = re.compile(r"^(platform/.+|\.gitlab-ci\.yml)$")


@dataclass(frozen=True)
class Mutant:
    id: str
    area: str
    description: str
    file: str  # relative to the repository root
    edits: tuple[Edit, ...]
    equivalent: str | None = None
    source: str = ""  # catalog file and index, for messages


def _mutant(data: Any, area: str, where: str) -> Mutant:
    data = yamlio.only_fields(data, _KEYS, where, required=("id", "description", "file", "edits"))
    ident = str(data["id"])
    if not _ID.match(ident) or not ident.startswith(f"{area}-"):
        raise UserError(f"{where}: id {ident!r} must be lower-case words joined by '-' and start with '{area}-'")
    description = str(data["description"]).strip()
    if not description or "\n" in description:
        raise UserError(f"{where} ({ident}): description must be one non-empty line")
    file = str(data["file"])
    if not _EDITABLE.match(file) or ".." in Path(file).parts:
        raise UserError(f"{where} ({ident}): file {file!r} must be under platform/ (or be .gitlab-ci.yml)")
    raw_edits = data["edits"]
    if not isinstance(raw_edits, list) or not raw_edits:
        raise UserError(f"{where} ({ident}): edits must be a non-empty list")
    try:
        edits = tuple(edit_from_data(e) for e in raw_edits)
    except ValueError as exc:
        raise UserError(f"{where} ({ident}): {exc}") from None
    equivalent = data.get("equivalent")
    if equivalent is not None and not str(equivalent).strip():
        raise UserError(f"{where} ({ident}): equivalent needs a reason a reviewer can verify")
    return Mutant(ident, area, description, file, edits, str(equivalent).strip() if equivalent else None, where)


def load_area(path: Path) -> list[Mutant]:
    area = path.stem
    if area not in AREAS:
        raise UserError(f"{path}: unknown area {area!r} (areas: {', '.join(AREAS)})")
    # One loader: a duplicated mutant key is refused, not the last one kept.
    return [_mutant(item, area, f"{path.name}[{i}]") for i, item in enumerate(yamlio.load_list(path, "mutants"))]


def load(directory: Path = CATALOG_DIR) -> list[Mutant]:
    """Every mutant of every area file; ids unique over the catalog."""
    mutants: list[Mutant] = []
    for path in sorted(directory.glob("*.yaml")):
        mutants += load_area(path)
    seen: dict[str, str] = {}
    for mutant in mutants:
        if mutant.id in seen:
            raise UserError(f"{mutant.source}: id {mutant.id} is already used by {seen[mutant.id]}")
        seen[mutant.id] = mutant.source
    return mutants


def select(mutants: list[Mutant], *, areas: list[str] | None = None, ids: list[str] | None = None) -> list[Mutant]:
    """The mutants of the given areas and/or ids; an unknown area or id is bad input."""
    for area in areas or []:
        if area not in AREAS:
            raise UserError(f"--area {area}: unknown area (areas: {', '.join(AREAS)})")
    known = {m.id for m in mutants}
    for ident in ids or []:
        if ident not in known:
            raise UserError(f"--id {ident}: no such mutant in {CATALOG_DIR} (see --list)")
    return [m for m in mutants if (not areas or m.area in areas) and (not ids or m.id in ids)]
