"""Notification timings as Alertmanager applies them (inheritance, defaults), on hand-written configs."""

from verification.models.monitoring import notification_timing as nt

CONFIG = {
    "route": {
        "receiver": "slack",
        "group_wait": "30s",
        "routes": [
            {"receiver": "heartbeat", "group_wait": "0s", "group_interval": "1m", "repeat_interval": "1m"},
            {"receiver": "pager", "group_wait": "10s", "routes": [{"receiver": "pager-eu", "repeat_interval": "1h"}]},
        ],
    }
}


def test_children_inherit_and_the_root_takes_alertmanagers_defaults() -> None:
    got = {t.path: (t.receiver, t.group_wait, t.group_interval, t.repeat_interval) for t in nt.timings(CONFIG)}
    assert got == {
        "route": ("slack", 30, 300, 14400),
        "route.routes[0]": ("heartbeat", 0, 60, 60),
        "route.routes[1]": ("pager", 10, 300, 14400),
        "route.routes[1].routes[0]": ("pager-eu", 10, 300, 3600),  # group_wait from its parent, not the root
    }


def test_config_within_the_budget_passes() -> None:
    assert nt.check(CONFIG, ("heartbeat",)) == []


def test_hours_long_group_wait_is_named_with_every_route_that_inherits_it() -> None:
    slow = {"route": {**CONFIG["route"], "group_wait": "3h", "routes": [{"receiver": "mail"}]}}
    assert nt.check(slow, ()) == [
        "route (receiver slack): group_wait 10800s exceeds the notification budget of 60s",
        "route.routes[0] (receiver mail): group_wait 10800s exceeds the notification budget of 60s",
    ]


def test_rare_heartbeat_is_an_unnoticed_outage() -> None:
    rare = {
        "route": {
            "receiver": "slack",
            "routes": [{"receiver": "heartbeat", "group_wait": "0s", "repeat_interval": "4h"}],
        }
    }
    # group_interval 5m (the default) is at the bound, allowed; the 4 h repeat is not
    assert nt.check(rare, ("heartbeat",)) == [
        "route.routes[0] (receiver heartbeat): heartbeat repeat_interval 14400s; the dead man's switch must hear "
        "from Alertmanager at least every 300s or an outage goes unnoticed that long"
    ]
