"""How long Alertmanager takes to tell someone: group_wait, group_interval and repeat_interval of
every route as Alertmanager applies them (inherited from the parent route, defaults at the root).

amtool proves WHERE an alert goes; these bounds prove it gets there in time: a `group_wait: 3h`
routes correctly and pages three hours late. The heartbeat (dead man's switch) must repeat often
enough that the receiver on the other side notices a silent Alertmanager within minutes.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from verification.models.monitoring.alerts import duration_seconds

# Alertmanager's defaults when the root route sets nothing.
DEFAULTS = {"group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}
# The platform's notification budget: the first notice of a new group within a minute of firing,
# news of a changed group within 5 minutes, an unresolved alert re-sent at least every 4 hours.
BOUNDS = {"group_wait": 60.0, "group_interval": 300.0, "repeat_interval": 4 * 3600.0}
# The heartbeat receiver alarms when pings stop; it must hear one at least every 5 minutes.
HEARTBEAT_BOUND = 300.0


@dataclass(frozen=True)
class Timing:
    path: str
    receiver: str
    group_wait: float
    group_interval: float
    repeat_interval: float


def timings(cfg: Mapping[str, Any]) -> Iterator[Timing]:
    """Every route with its effective receiver and timings (children inherit what they do not set)."""

    def walk(route: Mapping[str, Any], path: str, inherited: dict[str, Any]) -> Iterator[Timing]:
        own = {**inherited, **{k: route[k] for k in (*DEFAULTS, "receiver") if k in route}}
        yield Timing(path, str(own.get("receiver")), *(duration_seconds(own[k]) for k in DEFAULTS))
        for index, child in enumerate(route.get("routes") or []):
            yield from walk(child, f"{path}.routes[{index}]", own)

    yield from walk(cfg.get("route") or {}, "route", dict(DEFAULTS))


def check(cfg: Mapping[str, Any], heartbeat_receivers: tuple[str, ...]) -> list[str]:
    problems = []
    for timing in timings(cfg):
        where = f"{timing.path} (receiver {timing.receiver})"
        for key, bound in BOUNDS.items():
            value = getattr(timing, key)
            if value > bound:
                problems.append(f"{where}: {key} {value:g}s exceeds the notification budget of {bound:g}s")
        if timing.receiver in heartbeat_receivers:
            for key in ("group_interval", "repeat_interval"):
                value = getattr(timing, key)
                if value > HEARTBEAT_BOUND:
                    problems.append(
                        f"{where}: heartbeat {key} {value:g}s; the dead man's switch must hear from Alertmanager "
                        f"at least every {HEARTBEAT_BOUND:g}s or an outage goes unnoticed that long"
                    )
    return problems
