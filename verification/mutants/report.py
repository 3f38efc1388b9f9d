"""What a mutation run found: figures, survivors, kills, as text and as JSON."""

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from verification.mutants.runner import EQUIVALENT, ERROR, KILLED, STALE, SURVIVED, Result

# The figures of a run, by name (counts per outcome, kill rate, wall seconds, jobs), as the JSON report has them.
Figures = dict[str, int | float | None]


def summary(results: list[Result], seconds: float, jobs: int) -> Figures:
    counts = {o: sum(r.outcome == o for r in results) for o in (KILLED, SURVIVED, EQUIVALENT, STALE, ERROR)}
    measured = counts[KILLED] + counts[SURVIVED] + counts[ERROR]  # non-equivalent, applicable
    return {
        "mutants": len(results),
        "applicable": len(results) - counts[STALE],
        "non_equivalent_applicable": measured,
        **counts,
        "kill_rate": round(counts[KILLED] / measured, 4) if measured else None,
        "wall_seconds": round(seconds, 1),
        "jobs": jobs,
    }


def failed(results: list[Result]) -> bool:
    """A survivor, a stale mutant or an unmeasured one fails the run."""
    return any(r.outcome in (SURVIVED, STALE, ERROR) for r in results)


def render(results: list[Result], figures: Figures) -> str:
    lines = []
    for outcome, title in (
        (SURVIVED, "SURVIVED (no conformance test failed)"),
        (STALE, "STALE (the edit no longer applies: update the catalog)"),
        (ERROR, "ERROR (not measured)"),
        (EQUIVALENT, "EQUIVALENT (the platform behaves the same)"),
        (KILLED, "KILLED (first failing test)"),
    ):
        chosen = [r for r in results if r.outcome == outcome]
        if not chosen:
            continue
        lines.append(f"\n{title}: {len(chosen)}")
        for r in chosen:
            lines.append(f"  {r.id}: {r.description}")
            if r.killed_by:
                lines.append(f"      killed by {r.killed_by}")
            if r.detail:
                lines.append(f"      {r.detail}")
    rate = figures["kill_rate"]
    lines.append(
        f"\n{figures['mutants']} mutants: {figures[KILLED]} killed, {figures[SURVIVED]} survived, "
        f"{figures[EQUIVALENT]} equivalent, {figures[STALE]} stale, {figures[ERROR]} error; "
        f"kill rate {'n/a' if rate is None else f'{rate:.1%}'} "
        f"({figures[KILLED]}/{figures['non_equivalent_applicable']} non-equivalent applicable); "
        f"wall time {figures['wall_seconds']:.0f} s with {figures['jobs']} job(s)"
    )
    return "\n".join(lines)


def write_json(results: list[Result], figures: Figures, path: Path, selection: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"summary": figures, "selection": selection, "mutants": [asdict(r) for r in results]}
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path
