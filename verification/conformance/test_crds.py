"""Custom resources are valid for the CRD schemas of the pinned ArgoCD and prometheus-operator.

The schemas come from the pinned upstream Go modules (`platform-verify crds fetch`); a missing
cache fails with one line naming that command.
"""

from typing import Any

import pytest

from verification.errors import UserError
from verification.models.schema import crd as crd_schema
from verification.yamlio import source_of


@pytest.fixture(scope="module")
def fetched() -> None:
    try:
        crd_schema.require_fetched()
    except UserError as exc:
        pytest.fail(str(exc), pytrace=False)


def _custom(objects: list[dict[str, Any]], group: str) -> list[dict[str, Any]]:
    return [o for o in objects if crd_schema.group_of(o["apiVersion"]) == group]


@pytest.mark.parametrize("group", ["argoproj.io", "monitoring.coreos.com"])
def test_custom_resources_match_pinned_crds(platform_objects: list[dict[str, Any]], fetched: None, group: str) -> None:
    objects = _custom(platform_objects, group)
    assert objects, f"no {group} objects under platform/manifests"
    problems = [p for o in objects for p in crd_schema.validate(o)]
    assert not problems, f"{len(problems)} CRD schema violation(s):\n" + "\n".join(problems)


def test_no_custom_resource_of_an_unknown_group(platform_objects: list[dict[str, Any]]) -> None:
    builtin_or_known = ("", "apps", "policy", "batch", "autoscaling")
    unknown = [
        f"{source_of(o)}: {o['apiVersion']} {o['kind']}"
        for o in platform_objects
        if "." in crd_schema.group_of(o["apiVersion"])
        and not crd_schema.is_custom(o)
        and not crd_schema.group_of(o["apiVersion"]).endswith(".k8s.io")
        and crd_schema.group_of(o["apiVersion"]) not in builtin_or_known
    ]
    assert not unknown, "custom resources without a pinned CRD source:\n" + "\n".join(unknown)
