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


def test_routing_verdict_names_the_differing_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Routed by a stand-in for amtool: one alert misrouted, one muted by a rule that should not
    mute it, one that should be muted and is not, the heartbeat right."""
    routed = {"A": ["team-x"], "B": ["oncall"], "Watchdog": ["deadman"]}
    monkeypatch.setattr(routes, "amtool_receivers", lambda _path, labels: routed[labels["alertname"]])
    labels = {"env": "test", "app": "x"}
    critical = alert_intent.ExpectedAlert({"alertname": "A", "severity": "critical", **labels}, ("oncall",))
    warning = alert_intent.ExpectedAlert({"alertname": "A", "severity": "warning", **labels}, ("team-x",))
    unmuted = alert_intent.ExpectedAlert({"alertname": "B", **labels}, (), inhibited_by="A")
    intent = alert_intent.AlertIntent(
        (alert_intent.FaultCase("down", "x", "test", "stop", (critical, warning, unmuted)),),
        alert_intent.ExpectedAlert({"alertname": "Watchdog"}, ("deadman",)),
    )
    verdict = alert_intent.check_routing(intent, CFG, Path("unused"))
    assert [(r.subject, r.expected, r.observed, r.cause) for r in verdict.differing_rows] == [
        ("intent 'down': A", "oncall", "team-x", ""),
        ("intent 'down': A", "team-x", "team-x", "muted by A"),
        ("intent 'down': B", "muted by A", "not muted", "no inhibit rule mutes it by A"),
    ]
    assert len(verdict.rows) == 4 and not verdict.ok
    assert verdict.render().startswith(
        "receivers of the alerts of alerts.yaml (amtool config routes test, inhibit rules): 3 of 4 rows differ"
    )
