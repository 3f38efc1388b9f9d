"""Expected vs observed truth tables, printed as grids a human can read in a terminal.

One small, general API for every "does reality equal the model" check (NetworkPolicy matrix,
live probe matrix, RBAC answers): a `Grid` is rows x columns of booleans with labels; cells
that are not applicable are simply absent. `compare` returns the differing cells and a report
with three grids (expected, observed, differences), in the spirit of the upstream Kubernetes
NetworkPolicy e2e suite's TruthTable.

Columns are printed as numbers (labels are long); a column whose label is also a row label
gets that row's number, so a square matrix needs only one legend.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

TRUE_MARK = "."
FALSE_MARK = "X"
MISSING_MARK = " "
DIFF_MARK = "*"


@dataclass(frozen=True)
class Grid:
    """Rows x columns of booleans; a cell absent from `cells` is not applicable."""

    title: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: Mapping[tuple[str, str], bool] = field(default_factory=dict)

    @classmethod
    def from_nested(
        cls,
        title: str,
        nested: Mapping[str, Mapping[str, bool]],
        *,
        rows: Iterable[str] | None = None,
        columns: Iterable[str] | None = None,
    ) -> "Grid":
        """From `{row: {column: bool}}`; row/column order defaults to first appearance."""
        row_order = list(rows) if rows is not None else list(nested)
        if columns is not None:
            col_order = list(columns)
        else:
            col_order = list(dict.fromkeys(c for r in nested.values() for c in r))
        cells = {(r, c): bool(v) for r, cols in nested.items() for c, v in cols.items()}
        return cls(title, tuple(row_order), tuple(col_order), cells)

    def get(self, row: str, column: str) -> bool | None:
        return self.cells.get((row, column))


@dataclass(frozen=True)
class Difference:
    row: str
    column: str
    expected: bool | None
    observed: bool | None

    def describe(self, true_word: str = "allowed", false_word: str = "denied") -> str:
        def word(value: bool | None) -> str:
            return "absent" if value is None else (true_word if value else false_word)

        return f"{self.row} -> {self.column}: expected {word(self.expected)}, observed {word(self.observed)}"


@dataclass(frozen=True)
class Comparison:
    expected: Grid
    observed: Grid
    differences: tuple[Difference, ...]
    true_word: str = "allowed"
    false_word: str = "denied"

    @property
    def ok(self) -> bool:
        return not self.differences

    def report(self) -> str:
        """Expected, observed and differences grids plus one line per differing cell; '' if equal."""
        if self.ok:
            return ""
        rows, columns = (
            _union(self.expected.rows, self.observed.rows),
            _union(self.expected.columns, self.observed.columns),
        )
        differing = {(d.row, d.column) for d in self.differences}

        def diff_cell(r: str, c: str) -> str:
            if (r, c) in differing:
                return DIFF_MARK
            applicable = (r, c) in self.expected.cells or (r, c) in self.observed.cells
            return TRUE_MARK if applicable else MISSING_MARK

        title = self.expected.title or self.observed.title
        parts = [
            render(self.expected, heading=f"expected: {title}", true_word=self.true_word, false_word=self.false_word),
            render(self.observed, heading=f"observed: {title}", true_word=self.true_word, false_word=self.false_word),
            render_cells(
                rows,
                columns,
                diff_cell,
                heading=f"differences: {title} ({len(self.differences)} cells)",
                legend=f"'{TRUE_MARK}' same, '{DIFF_MARK}' differs",
            ),
            "\n".join(d.describe(self.true_word, self.false_word) for d in self.differences),
        ]
        return "\n\n".join(parts)


def differences(expected: Grid, observed: Grid) -> list[Difference]:
    """Every cell whose value differs (a cell present on one side only differs too)."""
    rows = _union(expected.rows, observed.rows)
    columns = _union(expected.columns, observed.columns)
    found = []
    for r in rows:
        for c in columns:
            want, have = expected.get(r, c), observed.get(r, c)
            if want != have:
                found.append(Difference(r, c, want, have))
    return found


def compare(expected: Grid, observed: Grid, *, true_word: str = "allowed", false_word: str = "denied") -> Comparison:
    return Comparison(expected, observed, tuple(differences(expected, observed)), true_word, false_word)


def render(grid: Grid, *, heading: str | None = None, true_word: str = "allowed", false_word: str = "denied") -> str:
    def cell(r: str, c: str) -> str:
        value = grid.get(r, c)
        return MISSING_MARK if value is None else (TRUE_MARK if value else FALSE_MARK)

    legend = f"'{TRUE_MARK}' {true_word}, '{FALSE_MARK}' {false_word}"
    if any((r, c) not in grid.cells for r in grid.rows for c in grid.columns):
        legend += ", blank: not applicable"
    return render_cells(grid.rows, grid.columns, cell, heading=heading or grid.title, legend=legend)


def render_cells(
    rows: Iterable[str], columns: Iterable[str], cell: Callable[[str, str], str], *, heading: str, legend: str
) -> str:
    """Lay out any rows x columns of one-character cells; `cell(row, column) -> str`."""
    rows, columns = list(rows), list(columns)
    number = {label: i + 1 for i, label in enumerate(rows)}
    extra = [c for c in columns if c not in number]
    for label in extra:
        number[label] = len(number) + 1
    width = max(2, len(str(len(number))))
    label_width = max((len(r) for r in rows), default=0) + width + 1
    header = " " * label_width + " " + "".join(f"{number[c]:>{width + 1}}" for c in columns)
    lines = [f"{heading}  ({legend}; columns numbered like rows)", header]
    for r in rows:
        marks = "".join(f"{cell(r, c):>{width + 1}}" for c in columns)
        lines.append(f"{number[r]:>{width}} {r:<{label_width - width - 1}} {marks}")
    if extra:
        lines.append("columns: " + ", ".join(f"{number[c]} {c}" for c in extra))
    return "\n".join(lines)


def _union(first: Iterable[str], second: Iterable[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))
