"""verdicts/: one Verdict (expected, observed, difference, cause) and how it prints, hand-checked."""

from hypothesis import given
from hypothesis import strategies as st

from verification.verdicts.grid import Grid, differing, render
from verification.verdicts.verdict import Row, Verdict


def _grid(title: str, nested: dict[str, dict[str, bool]]) -> Grid:
    """From `{row: {column: bool}}`, rows and columns in order of first appearance."""
    columns = tuple(dict.fromkeys(c for r in nested.values() for c in r))
    return Grid(title, tuple(nested), columns, {(r, c): v for r, cols in nested.items() for c, v in cols.items()})


# x/a may reach x/a and x/b, not x/c; x/b the same; x/c reaches everyone.
EXPECTED = _grid(
    "port 80/TCP",
    {
        "x/a": {"x/a": True, "x/b": True, "x/c": False},
        "x/b": {"x/a": True, "x/b": True, "x/c": False},
        "x/c": {"x/a": True, "x/b": True, "x/c": True},
    },
)
# Two cells flipped: x/a -> x/c opened, x/c -> x/a closed.
OBSERVED = _grid(
    "port 80/TCP",
    {
        "x/a": {"x/a": True, "x/b": True, "x/c": True},
        "x/b": {"x/a": True, "x/b": True, "x/c": False},
        "x/c": {"x/a": False, "x/b": True, "x/c": True},
    },
)


def test_grid_verdict_that_passes_is_one_line() -> None:
    verdict = Verdict("reachability", [(EXPECTED, EXPECTED)])
    assert verdict.ok
    assert verdict.render() == "reachability: 0 of 9 cells differ"


def test_grid_verdict_differing_in_two_cells_shows_both_grids_and_the_cells() -> None:
    verdict = Verdict("reachability", [(EXPECTED, OBSERVED)], cause="policy x/p edited in the cluster")
    assert not verdict.ok and verdict.differing_cells == 2
    assert verdict.render().splitlines() == [
        "reachability: 2 of 9 cells differ",
        "cause: policy x/p edited in the cluster",
        "",
        "port 80/TCP  ('.' allowed, 'X' denied; [ ] differs; columns numbered like rows)",
        "        expected    observed",
        "         1  2  3     1  2  3",
        "1 x/a    .  . [X]    .  . [.]",
        "2 x/b    .  .  X     .  .  X",
        "3 x/c   [.] .  .    [X] .  .",
        "x/a -> x/c: expected denied, observed allowed",
        "x/c -> x/a: expected allowed, observed denied",
    ]


def test_only_the_grid_pairs_that_differ_are_drawn() -> None:
    other = Grid("port 53/UDP", EXPECTED.rows, EXPECTED.columns, EXPECTED.cells)
    text = Verdict("reachability", [(other, other), (EXPECTED, OBSERVED)]).render()
    assert text.startswith("reachability: 2 of 18 cells differ\n") and "53/UDP" not in text


def test_table_verdict_prints_the_differing_rows_with_their_cause() -> None:
    verdict = Verdict(
        "SubjectAccessReview against the model",
        rows=[
            Row("alice: get pods -n test", "allow", "allow"),
            Row("bob: delete secrets -n staging", "deny", "allow", "bound by RoleBinding staging/x"),
            Row("ci: create pods", "allow (model), deny (intent)", "allow", "the model differs from the intent", False),
        ],
        notes=["3 queries asked"],
    )
    assert not verdict.ok
    assert verdict.render().splitlines() == [
        "SubjectAccessReview against the model: 2 of 3 rows differ",
        "",
        "subject                         expected                      observed  cause",
        "bob: delete secrets -n staging  deny                          allow     bound by RoleBinding staging/x",
        "ci: create pods                 allow (model), deny (intent)  allow     the model differs from the intent",
        "",
        "3 queries asked",
    ]


def test_table_without_causes_has_no_cause_column_and_a_row_may_agree_in_other_words() -> None:
    rows = [Row("pod a (restricted)", "admit", "admitted", agrees=True), Row("pod b (restricted)", "admit", "no")]
    assert Verdict("admission", rows=rows).render().splitlines() == [
        "admission: 1 of 2 rows differ",
        "",
        "subject             expected  observed",
        "pod b (restricted)  admit     no",
    ]


def test_differences_include_cells_present_on_one_side_only() -> None:
    expected = _grid("t", {"a": {"a": True, "b": False}})
    observed = _grid("t", {"a": {"a": False}})
    assert differing(expected, observed) == [("a", "a"), ("a", "b")]
    assert "a -> b: expected denied, observed absent" in Verdict("t", [(expected, observed)]).render()


def test_one_grid_alone_numbers_columns_that_are_not_rows_and_words_are_configurable() -> None:
    grid = Grid("rbac", ("alice", "bob"), ("get pods", "alice"), {("alice", "get pods"): True, ("bob", "alice"): False})
    assert render(grid, true_word="yes", false_word="no").splitlines() == [
        "rbac  ('.' yes, 'X' no, blank: not applicable; columns numbered like rows)",
        "           3  1",
        "1 alice    .",
        "2 bob         X",
        "columns: 3 get pods",
    ]


# ---------------------------------------------------------------- properties

LABELS = st.sampled_from(["x/a", "x/b", "y/c", "y/dd", "z/e"])
NESTED = st.dictionaries(LABELS, st.dictionaries(LABELS, st.booleans(), max_size=5), max_size=5)


@given(NESTED, NESTED)
def test_grid_verdict_passes_iff_expected_equals_observed(want: dict, have: dict) -> None:
    expected, observed = _grid("g", want), _grid("g", have)
    assert Verdict("t", [(expected, observed)]).ok == (expected.cells == observed.cells)


@given(NESTED, NESTED)
def test_rendering_never_drops_a_differing_cell(want: dict, have: dict) -> None:
    expected, observed = _grid("g", want), _grid("g", have)
    found = differing(expected, observed)
    text = Verdict("t", [(expected, observed)]).render()
    assert text.startswith(f"t: {len(found)} of ")
    for r, c in found:
        assert f"\n{r} -> {c}: expected " in text
    # each differing cell is bracketed once in the expected grid and once in the observed grid
    assert text.count("[") == (2 * len(found) + 1 if found else 0)  # + the legend's "[ ] differs"


@given(st.lists(st.tuples(st.text("abc-", min_size=1), st.sampled_from(["allow", "deny"]), st.booleans())))
def test_table_verdict_passes_iff_every_row_agrees_and_prints_every_differing_row(cases: list) -> None:
    rows = [Row(s, e, e if same else "other") for s, e, same in cases]
    verdict = Verdict("t", rows=rows)
    assert verdict.ok == all(same for _, _, same in cases)
    lines = verdict.render().splitlines()
    printed = lines[3:] if len(lines) > 3 else []
    assert len(printed) == sum(not same for _, _, same in cases)
    assert all(line.startswith(r.subject) for line, r in zip(printed, verdict.differing_rows, strict=True))
