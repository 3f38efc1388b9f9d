"""The one label-selector implementation, against metav1.LabelSelector rules."""

import pytest

from verification.errors import UserError
from verification.models.selectors import matches

LABELS = {"app": "web", "tier": "front", "enabled": "true"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({}, True),
        ({"matchLabels": {"app": "web"}}, True),
        ({"matchLabels": {"app": "db"}}, False),
        ({"matchLabels": {"enabled": "true", "app": "web"}}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "back"]}]}, True),
        ({"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}, False),
        ({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]}]}, False),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, False),
        ({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "zone", "operator": "Exists"}]}, False),
    ],
)
def test_selector_semantics(selector, expected) -> None:
    assert matches(selector, LABELS) is expected


def test_unknown_operator_names_its_place() -> None:
    with pytest.raises(UserError, match=r"ClusterRole x: unknown selector operator 'Like'"):
        matches({"matchExpressions": [{"key": "a", "operator": "Like"}]}, LABELS, "ClusterRole x")


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ({"matchLabels": "p"}, "matchLabels must be a mapping of label to value, not 'p'"),
        ({"matchExpressions": {"key": "a"}}, "matchExpressions must be a list"),
        ({"matchExpressions": ["key"]}, "matchExpressions must be a list"),
        ("app=web", "a label selector must be a mapping"),
    ],
)
def test_malformed_selector_is_one_line_naming_its_place(selector, message) -> None:
    # A truncated manifest (`matchLabels:\n  p`) crashed with AttributeError (found by test_bad_input).
    with pytest.raises(UserError, match=r"ClusterRole x: " + message):
        matches(selector, LABELS, "ClusterRole x")
