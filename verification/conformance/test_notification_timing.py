"""Alertmanager notifies in time: every route within the notification budget, the heartbeat often.

Mutants killed here: `group_wait` hours long, the Watchdog repeat hours long
(verification/mutants/catalog/monitoring.yaml).
"""

from typing import Any

from verification.models.monitoring import alert_intent, notification_timing, routes


def test_every_route_notifies_within_the_budget_and_the_heartbeat_repeats(
    platform_objects: list[dict[str, Any]],
) -> None:
    heartbeat = alert_intent.load().heartbeat.receivers
    problems = notification_timing.check(routes.config(platform_objects), tuple(heartbeat))
    assert not problems, "\n".join(problems)
