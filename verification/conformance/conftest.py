"""Fixtures shared by the conformance suite: everything is read once per session."""

from typing import Any

import pytest

from verification.paths import MANIFESTS
from verification.yamlio import load_manifests


@pytest.fixture(scope="session")
def platform_objects() -> list[dict[str, Any]]:
    """Every Kubernetes object under platform/manifests (source file recorded in an annotation)."""
    return load_manifests([MANIFESTS])
