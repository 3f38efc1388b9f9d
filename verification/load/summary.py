"""Summary of a load run: counts by status and version, latency percentiles, achieved rate, errors."""

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from verification.load.records import Record


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: the smallest value with at least p % of values at or below it."""
    if not values:
        return math.nan
    if not 0 < p <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {p}")
    ordered = sorted(values)
    rank = math.ceil(p / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


@dataclass
class Summary:
    target_rate: float
    duration_s: float
    scheduled: int
    sent: int
    achieved_rate: float
    failed: int
    by_status: dict[str, int] = field(default_factory=dict)
    by_version: dict[str, int] = field(default_factory=dict)
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)
    start_lag_ms: dict[str, float] = field(default_factory=dict)

    @property
    def rate_ratio(self) -> float:
        return self.achieved_rate / self.target_rate if self.target_rate else math.nan

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rate_ratio": self.rate_ratio}

    def format(self) -> str:
        lat = self.latency_ms
        lines = [
            f"requests: {self.sent} sent of {self.scheduled} scheduled, {self.failed} failed",
            f"rate: {self.achieved_rate:.1f}/s achieved of {self.target_rate:g}/s target ({self.rate_ratio:.1%})",
            "latency ms: " + ", ".join(f"{k} {v:.2f}" for k, v in lat.items()) if lat else "latency ms: -",
            "by status: " + _counts(self.by_status),
            "by version: " + _counts(self.by_version),
            "errors: " + (_counts(self.errors_by_kind) or "none"),
        ]
        return "\n".join(lines)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))


def _stats(values_ns: list[int]) -> dict[str, float]:
    if not values_ns:
        return {}
    ms = [v / 1e6 for v in values_ns]
    return {**{f"p{p}": percentile(ms, p) for p in (50, 95, 99)}, "max": max(ms)}


def summarize(records: Sequence[Record], *, target_rate: float, duration_s: float, scheduled: int) -> Summary:
    """Summarise `records` of a run that scheduled `scheduled` requests at `target_rate` per second.

    Achieved rate: requests sent divided by the time from the first scheduled send to the last
    actual send plus one interval; a generator that keeps to its schedule achieves the target exactly.
    """
    sent = len(records)
    if sent:
        first = min(r.scheduled_ns for r in records)
        last = max(r.started_ns for r in records)
        achieved = sent / ((last - first) / 1e9 + 1 / target_rate)
    else:
        achieved = 0.0
    answered = [r for r in records if r.status is not None]
    return Summary(
        target_rate=target_rate,
        duration_s=duration_s,
        scheduled=scheduled,
        sent=sent,
        achieved_rate=achieved,
        failed=sum(r.failed for r in records),
        by_status=dict(Counter(str(r.status) if r.status is not None else "error" for r in records)),
        by_version=dict(Counter(r.version or "none" for r in records)),
        errors_by_kind=dict(Counter(k for r in records if (k := r.failure_kind))),
        latency_ms=_stats([r.latency_ns for r in answered]),
        start_lag_ms=_stats([r.started_ns - r.scheduled_ns for r in records]),
    )
