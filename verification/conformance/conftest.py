"""Fixtures shared by the conformance suite: everything is read once per session."""

from typing import Any

import pytest

from verification.paths import MANIFESTS
from verification.yamlio import load_manifests


@pytest.fixture(scope="session")
def platform_objects() -> list[dict[str, Any]]:
    """Every Kubernetes object under platform/manifests (source file recorded in an annotation)."""
    return load_manifests([MANIFESTS])


@pytest.fixture(scope="session")
def chart_renders() -> dict[tuple[str, str, str], Any]:
    """Every blue-green chart render (app x environment x colour), once per session, shared by modules."""
    from verification.models.delivery import chart as bg

    keys = [(app, env, color) for env in bg.environments() for app in bg.apps(env) for color in bg.COLORS]
    return bg.render_many(keys)
