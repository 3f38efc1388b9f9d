"""The alert intent reader and the inhibition model against hand-written cases."""

from pathlib import Path

import pytest

from verification.errors import UserError
from verification.models.monitoring import alert_intent, routes

CFG = {
    "inhibit_rules": [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["alertname", "env", "app"],
        },
        {
            "source_match": {"alertname": "AppAllTargetsDown"},
            "target_match_re": {"alertname": "AppTarget.*"},
            "equal": ["env", "app"],
        },
    ]
}


@pytest.mark.parametrize(
    ("source", "target", "muted"),
    [
        (
            {"alertname": "A", "severity": "critical", "env": "test", "app": "x"},
            {"alertname": "A", "severity": "warning", "env": "test", "app": "x"},
            True,
        ),
        (
            {"alertname": "A", "severity": "critical", "env": "test", "app": "x"},
            {"alertname": "A", "severity": "warning", "env": "test", "app": "y"},
            False,
        ),
        (
            {"alertname": "A", "severity": "critical", "env": "test", "app": "x"},
            {"alertname": "B", "severity": "warning", "env": "test", "app": "x"},
            False,
        ),
        (
            {"alertname": "A", "severity": "warning", "env": "test", "app": "x"},
            {"alertname": "A", "severity": "critical", "env": "test", "app": "x"},
            False,
        ),
        (
            {"alertname": "AppAllTargetsDown", "severity": "critical", "env": "staging", "app": "x"},
            {"alertname": "AppTargetDown", "severity": "warning", "env": "staging", "app": "x"},
            True,
        ),
        (
            {"alertname": "AppAllTargetsDown", "severity": "critical", "env": "staging", "app": "x"},
            {"alertname": "AppTargetDown", "severity": "warning", "env": "test", "app": "x"},
            False,
        ),
    ],
)
def test_inhibits(source: dict[str, str], target: dict[str, str], muted: bool) -> None:
    assert routes.inhibits(CFG, source, target) is muted


def test_matchers_parse_both_syntaxes() -> None:
    parsed = routes.parse_matchers({"matchers": ['app=~"a|b"', "env!=prod"], "match": {"x": "1"}})
    assert [str(m) for m in parsed] == ['app=~"a|b"', 'env!="prod"', 'x="1"']
    assert parsed[0].matches("a") and not parsed[0].matches("ab")  # anchored like Alertmanager


def test_the_platform_intent_loads() -> None:
    intent = alert_intent.load()
    assert len(intent.faults) >= 3
    assert intent.heartbeat.receivers == ("heartbeat",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("faults: []\n", "expected a mapping with `faults`"),
        (
            "faults:\n  - {name: n, app: a, env: e, fault: {error_rate: 1}, alerts: []}\nheartbeat: {}\n",
            "fault must be `stop` or a mapping",
        ),
        (
            "faults:\n  - {name: n, app: a, env: e, fault: stop,\n"
            "     alerts: [{labels: {alertname: A}, receivers: []}]}\n"
            "heartbeat: {}\n",
            "reaches no receiver",
        ),
        (
            "faults:\n  - {name: n, app: a, env: e, fault: stop, color: x, alerts: []}\nheartbeat: {}\n",
            "unknown field(s) color",
        ),
    ],
)
def test_bad_intent_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text(text)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)").replace("`", "`")):
        alert_intent.load(path)
