"""Summary, percentiles, request log and timeline data against hand-checked cases."""

import json
import math

import pytest

from verification.load.plot import timeline
from verification.load.records import Event, Record, write_log
from verification.load.summary import percentile, summarize

MS = 1_000_000
S = 1_000_000_000


def rec(
    seq: int,
    *,
    at_ms: int,
    late_ms: int = 0,
    latency_ms: int = 10,
    status: int | None = 200,
    error: str | None = None,
    version: str | None = "1.0.0",
) -> Record:
    scheduled = 1_700_000_000 * S + at_ms * MS
    return Record(seq, scheduled, scheduled + late_ms * MS, latency_ms * MS, status, error, version)


@pytest.mark.parametrize(
    ("p", "expected"), [(1, 1), (10, 1), (11, 2), (50, 5), (90, 9), (91, 10), (95, 10), (99, 10), (100, 10)]
)
def test_nearest_rank_percentiles_of_one_to_ten(p: float, expected: int) -> None:
    # Nearest rank: ceil(p/100 * 10)-th smallest value.
    assert percentile([7, 3, 10, 1, 5, 2, 9, 4, 8, 6], p) == expected


def test_percentile_edge_cases() -> None:
    assert percentile([42.0], 50) == 42.0
    assert percentile([42.0], 99) == 42.0
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile([1, 2], 0)
    with pytest.raises(ValueError):
        percentile([1, 2], 101)


def test_summary_counts_statuses_versions_and_errors() -> None:
    records = [
        rec(0, at_ms=0, latency_ms=10),
        rec(1, at_ms=100, latency_ms=20, version="2.0.0"),
        rec(2, at_ms=200, latency_ms=30, status=500),
        rec(3, at_ms=300, latency_ms=5000, status=None, error="timeout", version=None),
        rec(4, at_ms=400, latency_ms=40, status=503, version="2.0.0"),
    ]
    s = summarize(records, target_rate=10, duration_s=0.5, scheduled=5)
    assert (s.sent, s.scheduled, s.failed) == (5, 5, 3)
    assert s.by_status == {"200": 2, "500": 1, "error": 1, "503": 1}
    assert s.by_version == {"1.0.0": 2, "2.0.0": 2, "none": 1}
    assert s.errors_by_kind == {"http_500": 1, "timeout": 1, "http_503": 1}
    # Latency over the 4 answered requests: 10, 20, 30, 40 ms (the timeout has no response).
    assert s.latency_ms == {"p50": 20.0, "p95": 40.0, "p99": 40.0, "max": 40.0}


def test_achieved_rate_equals_target_when_every_send_is_on_schedule() -> None:
    records = [rec(i, at_ms=i * 100) for i in range(10)]  # 10/s for 1 s, on time
    s = summarize(records, target_rate=10, duration_s=1, scheduled=10)
    assert s.achieved_rate == pytest.approx(10.0)
    assert s.rate_ratio == pytest.approx(1.0)
    assert s.start_lag_ms["max"] == 0


def test_achieved_rate_drops_when_sends_fall_behind() -> None:
    # The last of 10 sends, due at 0.9 s, left at 1.9 s: 10 requests over 2 s -> 5/s.
    records = [rec(i, at_ms=i * 100, late_ms=1000 if i == 9 else 0) for i in range(10)]
    s = summarize(records, target_rate=10, duration_s=1, scheduled=10)
    assert s.achieved_rate == pytest.approx(5.0)
    assert s.start_lag_ms["max"] == 1000


def _read_log(path) -> tuple[list[Record], list[Event]]:
    """requests.jsonl back into records and events: everything written is there to rebuild them."""
    records: list[Record] = []
    events: list[Event] = []
    for line in path.read_text().splitlines():
        data = json.loads(line)
        if "event" in data:
            events.append(Event(data["event"], data["time_ns"]))
        else:
            records.append(Record(**data))
    return records, events


def test_request_log_round_trips_with_events(tmp_path) -> None:
    records = [rec(0, at_ms=0), rec(1, at_ms=5, status=None, error="connect", version=None)]
    events = [Event("switch", 1_700_000_000 * S + 3 * MS)]
    path = tmp_path / "requests.jsonl"
    write_log(path, records, events)
    assert _read_log(path) == (records, events)
    first = path.read_text().splitlines()[0]
    assert '"event": "switch"' in first


def test_timeline_bins_successes_by_version_failures_and_events() -> None:
    start = 1_700_000_000 * S
    records = [
        rec(0, at_ms=0),
        rec(1, at_ms=100),
        rec(2, at_ms=1100, version="2.0.0"),
        rec(3, at_ms=1200, status=500, version="2.0.0"),
        rec(4, at_ms=1500, late_ms=600, version="2.0.0"),  # due in bin 1, sent in bin 2
    ]
    data = timeline(records, [Event("switch", start + 1000 * MS)], start_ns=start, bin_s=1.0)
    assert data.t == [0.0, 1.0, 2.0]
    assert data.by_version == {"1.0.0": [2.0, 0.0, 0.0], "2.0.0": [0.0, 1.0, 1.0]}
    assert data.failed == [0.0, 1.0, 0.0]
    assert data.events == [(1.0, "switch")]
