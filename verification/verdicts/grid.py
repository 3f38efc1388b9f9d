"""Truth tables as grids a human can read in a terminal: rows x columns of booleans with labels.

A `Grid` is the data (a cell absent from `cells` is not applicable); `layout` lays out one or
more grids side by side over the same row labels, a flagged cell in brackets, in the spirit of
the upstream Kubernetes NetworkPolicy e2e suite's TruthTable. Columns are printed as numbers
(labels are long); a column whose label is also a row label gets that row's number, so a square
matrix needs only one legend.
"""

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

TRUE_MARK, FALSE_MARK, MISSING_MARK = ".", "X", " "

Cell = tuple[str, str]


@dataclass(frozen=True)
class Grid:
    """Rows x columns of booleans; a cell absent from `cells` is not applicable."""

    title: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: Mapping[Cell, bool] = field(default_factory=dict)

    def get(self, row: str, column: str) -> bool | None:
        return self.cells.get((row, column))

    def mark(self, row: str, column: str) -> str:
        value = self.get(row, column)
        return MISSING_MARK if value is None else (TRUE_MARK if value else FALSE_MARK)


def union(first: Iterable[str], second: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*first, *second]))


def differing(expected: Grid, observed: Grid) -> list[Cell]:
    """Every cell whose value differs (a cell present on one side only differs too), in row order."""
    if expected is observed:
        return []
    rows = {r: i for i, r in enumerate(union(expected.rows, observed.rows))}
    columns = {c: i for i, c in enumerate(union(expected.columns, observed.columns))}
    found = [k for k in expected.cells.keys() | observed.cells.keys() if expected.cells.get(k) != observed.cells.get(k)]
    return sorted(found, key=lambda k: (rows.get(k[0], len(rows)), columns.get(k[1], len(columns)), k))


def legend(grids: Iterable[Grid], rows: Sequence[str], columns: Sequence[str], true_word: str, false_word: str) -> str:
    text = f"'{TRUE_MARK}' {true_word}, '{FALSE_MARK}' {false_word}"
    if any((r, c) not in g.cells for g in grids for r in rows for c in columns):
        text += ", blank: not applicable"
    return text


def layout(
    rows: Sequence[str],
    columns: Sequence[str],
    blocks: Sequence[tuple[str, Callable[[str, str], str]]],
    flagged: Collection[Cell] = (),
) -> list[str]:
    """Blocks of one-character cells side by side, sharing the row labels; `blocks` are
    (heading, cell(row, column) -> mark); a flagged cell is printed in brackets in every block."""
    number = {label: i + 1 for i, label in enumerate(rows)}
    extra = [c for c in columns if c not in number]
    for label in extra:
        number[label] = len(number) + 1
    digits = len(str(len(number)))
    width = digits + 2  # a number right-aligned over the mark, one space of room each side for brackets
    label_width = max((len(r) for r in rows), default=0) + digits + 1
    block_width = max(width * len(columns), *(len(h) for h, _ in blocks))
    gap = "   "

    def cell(mark: str, flag: bool) -> str:
        return " " * (width - 3) + (f"[{mark}]" if flag else f" {mark} ")

    headings = [f"{h:<{block_width}}" for h, _ in blocks]
    numbers = "".join(f"{number[c]:>{width - 1}} " for c in columns).ljust(block_width)
    lines = [" " * label_width + gap + gap.join(headings), " " * label_width + gap + gap.join([numbers] * len(blocks))]
    for r in rows:
        marks = ["".join(cell(mark(r, c), (r, c) in flagged) for c in columns).ljust(block_width) for _, mark in blocks]
        lines.append(f"{number[r]:>{digits}} {r:<{label_width - digits - 1}}" + gap + gap.join(marks))
    if extra:
        lines.append("columns: " + ", ".join(f"{number[c]} {c}" for c in extra))
    return [line.rstrip() for line in lines]


def render(grid: Grid, *, true_word: str = "allowed", false_word: str = "denied") -> str:
    """One grid alone (`platform-verify netpol matrix`); comparisons print through verdict.Verdict."""
    words = legend([grid], grid.rows, grid.columns, true_word, false_word)
    head = f"{grid.title}  ({words}; columns numbered like rows)"
    return "\n".join([head, *layout(grid.rows, grid.columns, [("", grid.mark)])[1:]])
