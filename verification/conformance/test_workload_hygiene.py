"""What the manifest linters check, over the whole rendered platform (platform/docs/linter-coverage.md).

One set of objects: platform/manifests plus every chart render (app x environment x colour); a
finding is reported once. Deliberate exceptions: platform/intent/linter-exemptions.yaml.
"""

from typing import Any

import pytest

from verification.models.schema import references
from verification.models.workloads import hygiene


@pytest.fixture(scope="module")
def rendered(
    platform_objects: list[dict[str, Any]], chart_renders: dict[tuple[str, str, str], Any]
) -> list[dict[str, Any]]:
    objects = [*platform_objects]
    for render in chart_renders.values():
        objects += references.render_objects(render)
    return objects


@pytest.fixture(scope="module")
def outcome(rendered: list[dict[str, Any]]) -> tuple[dict[str, list[hygiene.Finding]], list[str]]:
    exemptions = hygiene.load_exemptions()
    left, used = hygiene.exempt(hygiene.findings(rendered), exemptions)
    by_check: dict[str, list[hygiene.Finding]] = {}
    for finding in dict.fromkeys(left):  # the same object from several renders: once
        by_check.setdefault(finding.check, []).append(finding)
    return by_check, hygiene.stale(exemptions, used)


@pytest.mark.parametrize("check", sorted(hygiene.CHECKS))
def test_workloads_pass(outcome: tuple[dict[str, list[hygiene.Finding]], list[str]], check: str) -> None:
    found = outcome[0].get(check, [])
    assert not found, f"{len(found)} finding(s):\n" + "\n".join(sorted(str(f) for f in found))


def test_every_exemption_is_still_needed(outcome: tuple[dict[str, list[hygiene.Finding]], list[str]]) -> None:
    assert not outcome[1], "\n".join(outcome[1])


def test_only_covered_kinds(rendered: list[dict[str, Any]]) -> None:
    """A kind the linter table does not cover (an HPA, a Job) needs its checks mapped first."""
    assert not hygiene.uncovered_kinds(rendered), "\n".join(hygiene.uncovered_kinds(rendered))
