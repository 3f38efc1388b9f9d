"""verdicts/grid.py: differing cells and the three-grid report, on hand-made grids."""

from verification.verdicts.grid import Grid, compare, differences, render


def test_equal_grids_have_no_report() -> None:
    g = Grid.from_nested("t", {"a": {"a": True, "b": False}, "b": {"a": False, "b": True}})
    result = compare(g, Grid.from_nested("t", {"a": {"a": True, "b": False}, "b": {"a": False, "b": True}}))
    assert result.ok and result.report() == ""


def test_differences_include_cells_present_on_one_side_only() -> None:
    expected = Grid.from_nested("t", {"a": {"a": True, "b": False}})
    observed = Grid.from_nested("t", {"a": {"a": False}})
    assert [(d.row, d.column, d.expected, d.observed) for d in differences(expected, observed)] == [
        ("a", "a", True, False),
        ("a", "b", False, None),
    ]


def test_report_shows_expected_observed_and_marked_differences() -> None:
    expected = Grid.from_nested("port 80", {"x/a": {"x/a": True, "x/b": True}, "x/b": {"x/a": True, "x/b": True}})
    observed = Grid.from_nested("port 80", {"x/a": {"x/a": True, "x/b": False}, "x/b": {"x/a": True, "x/b": True}})
    report = compare(expected, observed).report()
    assert report.splitlines() == [
        "expected: port 80  ('.' allowed, 'X' denied; columns numbered like rows)",
        "         1  2",
        " 1 x/a   .  .",
        " 2 x/b   .  .",
        "",
        "observed: port 80  ('.' allowed, 'X' denied; columns numbered like rows)",
        "         1  2",
        " 1 x/a   .  X",
        " 2 x/b   .  .",
        "",
        "differences: port 80 (1 cells)  ('.' same, '*' differs; columns numbered like rows)",
        "         1  2",
        " 1 x/a   .  *",
        " 2 x/b   .  .",
        "",
        "x/a -> x/b: expected allowed, observed denied",
    ]


def test_columns_that_are_not_rows_get_their_own_numbers_and_words_are_configurable() -> None:
    grid = Grid("rbac", ("alice", "bob"), ("get pods", "alice"), {("alice", "get pods"): True, ("bob", "alice"): False})
    text = render(grid, true_word="yes", false_word="no")
    assert text.splitlines() == [
        "rbac  ('.' yes, 'X' no, blank: not applicable; columns numbered like rows)",
        "           3  1",
        " 1 alice   .   ",
        " 2 bob        X",
        "columns: 3 get pods",
    ]
