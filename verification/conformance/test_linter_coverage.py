"""platform/docs/linter-coverage.md stays true: complete per tool, and every test it names exists."""

import re
from pathlib import Path

import pytest

from verification.models.schema import references
from verification.models.workloads import hygiene as workload_hygiene
from verification.paths import PLATFORM

TABLE = PLATFORM / "docs" / "linter-coverage.md"
CONFORMANCE = Path(__file__).parent
# `test_file.py::test_name[param]` or `test_file.py`
TEST_REF = re.compile(r"`(test_\w+\.py)(?:::(\w+)(?:\[([\w-]+)\])?)?`")
PARAMS = {"test_workloads_pass": set(workload_hygiene.CHECKS), "test_references_resolve": set(references.CHECKS)}


def _sections(text: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = []
        elif current and line.startswith("| `"):
            sections[current].append(line)
    return sections


@pytest.fixture(scope="module")
def text() -> str:
    return TABLE.read_text()


def test_every_section_lists_all_checks_it_announces(text: str) -> None:
    announced = dict(re.findall(r"^- (\S+) .*\((\d+) checks\)$", text, re.M))
    sections = _sections(text)
    assert set(announced) == {"kube-linter", "kube-score", "Polaris", "checkov", "pint"}
    for tool, count in announced.items():
        section = next(rows for title, rows in sections.items() if title.split()[0] == tool)
        assert len(section) == int(count), f"{TABLE}: {tool} lists {len(section)} of its {count} checks"
        assert all(row.count("|") >= 3 and row.rstrip().endswith("|") for row in section)


def test_every_row_is_covered_or_says_why(text: str) -> None:
    rows = [row for section in _sections(text).values() for row in section]
    bare = [row for row in rows if not TEST_REF.search(row.split("|")[2]) and "n/a:" not in row]
    assert not bare, f"{TABLE}: rows with neither a test nor a reason:\n" + "\n".join(bare)


def test_every_named_test_exists(text: str) -> None:
    missing = []
    for file, test, param in set(TEST_REF.findall(text)):
        path = CONFORMANCE / file
        if not path.is_file():
            missing.append(f"{file}: no such conformance module")
        elif test and not re.search(rf"^def {test}\(", path.read_text(), re.M):
            missing.append(f"{file}: no test {test}")
        elif param and param not in PARAMS.get(test, {param}):
            missing.append(f"{file}::{test}: no parameter {param}")
    assert not missing, f"{TABLE} names tests that do not exist:\n" + "\n".join(sorted(missing))


def test_every_hygiene_check_is_in_the_table(text: str) -> None:
    absent = [name for name in workload_hygiene.CHECKS if f"test_workloads_pass[{name}]" not in text]
    assert not absent, f"{TABLE}: hygiene checks no linter row names: {absent}"
