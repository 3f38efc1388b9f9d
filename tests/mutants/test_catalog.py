"""The catalog itself: every entry parses, ids are unique, every edit applies to today's platform."""

from collections import Counter
from pathlib import Path

import pytest

from verification.errors import UserError
from verification.mutants import catalog
from verification.mutants.edits import StaleEdit
from verification.mutants.runner import mutated_files
from verification.paths import REPO_ROOT

MUTANTS = catalog.load()


def test_catalog_covers_every_area_with_at_least_60_mutants() -> None:
    per_area = Counter(m.area for m in MUTANTS)
    assert len(MUTANTS) >= 60, per_area
    assert set(per_area) == set(catalog.AREAS), f"areas without mutants: {set(catalog.AREAS) - set(per_area)}"


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_every_mutant_applies_to_todays_platform(mutant: catalog.Mutant) -> None:
    try:
        files = mutated_files(mutant, REPO_ROOT)
    except StaleEdit as exc:
        pytest.fail(f"{mutant.source}: stale mutant {mutant.id}: {exc}")
    for path, (original, mutated) in files.items():
        assert mutated != original
        assert path.read_text(encoding="utf-8") == original, "computing a mutant must not write the repository"


def _write(tmp_path: Path, area: str, text: str) -> Path:
    (tmp_path / f"{area}.yaml").write_text(text)
    return tmp_path


GOOD = (
    "- id: quotas-x\n  description: d\n  file: platform/a.yaml\n  edits: [{op: delete, select: {kind: LimitRange}}]\n"
)


@pytest.mark.parametrize(
    ("area", "text", "message"),
    [
        ("quotas", GOOD + GOOD, "id quotas-x is already used by quotas.yaml[0]"),
        (
            "quotas",
            GOOD.replace("quotas-x", "charts-x"),
            "and start with 'quotas-'",
        ),
        ("quotas", GOOD + "  owner: me\n", "quotas.yaml[0]: unknown field(s) owner (known: description, edits,"),
        ("quotas", "- id: quotas-x\n  file: platform/a.yaml\n", "quotas.yaml[0]: missing field(s) description, edits"),
        (
            "quotas",
            "- [quotas-x]\n",
            "quotas.yaml[0]: expected a mapping with description, edits, equivalent, file, id",
        ),
        ("quotas", "id: quotas-x\n", "quotas.yaml: expected a list of mutants, got dict"),
        ("quotas", GOOD.replace("platform/a.yaml", "verification/paths.py"), "must be under platform/"),
        ("quotas", GOOD.replace("platform/a.yaml", "platform/../x.yaml"), "must be under platform/"),
        ("quotas", GOOD.replace("op: delete", "op: explode"), "edit op 'explode' is not one of"),
        ("quotas", GOOD + "  equivalent: ''\n", "equivalent needs a reason"),
        ("quotas", "- id: quotas-x\n  description: a: b\n", "malformed YAML: line 2"),
        ("weather", GOOD, "unknown area 'weather'"),
    ],
)
def test_bad_catalog_entries_are_named(tmp_path: Path, area: str, text: str, message: str) -> None:
    with pytest.raises(UserError) as caught:
        catalog.load(_write(tmp_path, area, text))
    assert message in str(caught.value)


def test_selection_by_area_and_id() -> None:
    chosen = catalog.select(MUTANTS, areas=["quotas"])
    assert chosen and {m.area for m in chosen} == {"quotas"}
    first = MUTANTS[0].id
    assert [m.id for m in catalog.select(MUTANTS, ids=[first])] == [first]
    with pytest.raises(UserError, match="--id nope: no such mutant"):
        catalog.select(MUTANTS, ids=["nope"])
