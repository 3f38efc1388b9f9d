"""One verdict for every check: what was expected, what was observed, where they differ and why.

Conformance (model against intent), e2e (live cluster against model) and the CLI build a
`Verdict` and print `render()`, so a failure reads the same wherever it happens:

    <title>: <n> of <m> cells differ[, <k> of <l> rows differ]
    cause: <why, when known>
    per grid pair that differs: expected and observed side by side, differing cells in
    brackets, then one line per differing cell
    the differing rows: subject, expected, observed, cause
    notes: what was tolerated or is worth knowing (never a failure)

The difference takes one of two shapes: grids (truth tables such as a NetworkPolicy matrix, one
pair per port) or rows (one compared item each: a SubjectAccessReview, a pod's admission).
"""

from collections.abc import Sequence
from dataclasses import astuple, dataclass
from functools import cached_property

from verification.verdicts.grid import Grid, differing, layout, legend, union

ROW_WIDTH = 60  # a longer cell is printed whole; it only stops widening its column


@dataclass(frozen=True)
class Row:
    """One compared item: its expected and observed answers in words, and why they differ."""

    subject: str
    expected: str
    observed: str
    cause: str = ""
    agrees: bool | None = None  # None: the words decide (expected == observed)

    @property
    def differs(self) -> bool:
        return self.expected != self.observed if self.agrees is None else not self.agrees


@dataclass(frozen=True)
class Verdict:
    title: str
    grids: Sequence[tuple[Grid, Grid]] = ()  # (expected, observed) pairs
    rows: Sequence[Row] = ()  # every compared item; only differing ones are printed
    cause: str = ""
    notes: Sequence[str] = ()
    words: tuple[str, str] = ("allowed", "denied")

    @cached_property
    def cells(self) -> tuple[tuple[Grid, Grid, tuple[tuple[str, str], ...]], ...]:
        """(expected, observed, differing cells) for every grid pair."""
        return tuple((e, o, tuple(differing(e, o))) for e, o in self.grids)

    @property
    def differing_cells(self) -> int:
        return sum(len(found) for _, _, found in self.cells)

    @property
    def differing_rows(self) -> list[Row]:
        return [r for r in self.rows if r.differs]

    @property
    def ok(self) -> bool:
        return not self.differing_cells and not self.differing_rows

    def summary(self) -> str:
        parts = []
        if self.grids or not self.rows:
            compared = sum(len(set(e.cells) | set(o.cells)) for e, o in self.grids)
            parts.append(f"{self.differing_cells} of {compared} cells differ")
        if self.rows:
            parts.append(f"{len(self.differing_rows)} of {len(self.rows)} rows differ")
        return f"{self.title}: " + ", ".join(parts)

    def render(self) -> str:
        parts = [self.summary() + (f"\ncause: {self.cause}" if self.cause else "")]
        parts += [self._grid_pair(e, o, found) for e, o, found in self.cells if found]
        if self.differing_rows:
            parts.append(table(self.differing_rows))
        if self.notes:
            parts.append("\n".join(self.notes))
        return "\n\n".join(parts)

    __str__ = render

    def problems(self) -> list[str]:
        """For the checks that report a list of problems: none when it holds, else the rendering."""
        return [] if self.ok else [self.render()]

    def _grid_pair(self, expected: Grid, observed: Grid, found: Sequence[tuple[str, str]]) -> str:
        rows, columns = union(expected.rows, observed.rows), union(expected.columns, observed.columns)
        words = legend((expected, observed), rows, columns, *self.words)
        head = f"{expected.title or observed.title}  ({words}; [ ] differs; columns numbered like rows)"
        grids = layout(rows, columns, [("expected", expected.mark), ("observed", observed.mark)], set(found))
        lines = [
            f"{r} -> {c}: expected {self._word(expected, r, c)}, observed {self._word(observed, r, c)}"
            for r, c in found
        ]
        return "\n".join([head, *grids, *lines])

    def _word(self, grid: Grid, row: str, column: str) -> str:
        value = grid.get(row, column)
        return "absent" if value is None else self.words[0] if value else self.words[1]


def table(rows: Sequence[Row]) -> str:
    """Rows as aligned columns: subject, expected, observed and (when any row has one) cause."""
    width = 4 if any(r.cause for r in rows) else 3
    lines: list[tuple[str, ...]] = [
        line[:width] for line in [("subject", "expected", "observed", "cause")] + [astuple(r)[:4] for r in rows]
    ]
    widths = [min(ROW_WIDTH, max(len(line[i]) for line in lines)) for i in range(len(lines[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines)
