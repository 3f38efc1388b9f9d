"""Namespaces carry the conventions' labels and Pod Security levels; each has quota and limits."""

from typing import Any

import pytest

from verification.models.netpol import segmentation


def _fail_on(violations: list[str]) -> None:
    if violations:
        pytest.fail("\n".join(violations), pytrace=False)


def test_namespaces_labels_and_pod_security(platform_objects: list[dict[str, Any]]) -> None:
    _fail_on(segmentation.namespace_violations(platform_objects))


def test_every_namespace_has_quota_and_limit_range(platform_objects: list[dict[str, Any]]) -> None:
    _fail_on(segmentation.quota_violations(platform_objects))
