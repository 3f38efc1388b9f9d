"""verification.e2e.concurrent: jobs that share nothing overlap, jobs on one key keep test order,
a job's failure reaches only the test that awaits it; and the live alert side stops waiting for a
notification once Alertmanager's own state says it will not come."""

import json
import threading
import time
from contextlib import nullcontext
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

from verification.alerting import scenario
from verification.alerting.loopback import Profile
from verification.alerting.scenario import Patience
from verification.e2e.concurrent import EVERYTHING, Hold, Lanes
from verification.models.monitoring.alert_intent import ExpectedAlert, FaultCase
from verification.models.monitoring.alerts import AlertRule, RuleSet
from verification.probes import alerting


def _sleeper(log: list[tuple[str, str, float]], name: str, seconds: float) -> Any:
    def run() -> str:
        log.append((name, "start", time.monotonic()))
        time.sleep(seconds)
        log.append((name, "end", time.monotonic()))
        return name

    return run


def _spans(log: list[tuple[str, str, float]]) -> dict[str, tuple[float, float]]:
    starts = {n: t for n, what, t in log if what == "start"}
    return {n: (starts[n], t) for n, what, t in log if what == "end"}


def test_hold_conflicts() -> None:
    pair = Hold(frozenset({"pair:a/test"}), frozenset({"am"}))
    assert not pair.conflicts(Hold(frozenset({"pair:b/test"}), frozenset({"am"})))  # both only read "am"
    assert pair.conflicts(Hold(frozenset({"pair:a/test"})))
    assert pair.conflicts(Hold(frozenset({"am"})))  # breaking the configuration excludes its readers
    assert Hold(frozenset({"am"})).conflicts(pair)
    assert not Hold().conflicts(pair)


def test_disjoint_jobs_overlap_and_one_key_keeps_submission_order() -> None:
    log: list[tuple[str, str, float]] = []
    lanes = Lanes(limit=3)
    lanes.submit("a1", _sleeper(log, "a1", 0.3), exclusive=["pair:a"], shared=["am"])
    lanes.submit("b1", _sleeper(log, "b1", 0.3), exclusive=["pair:b"], shared=["am"])
    lanes.submit("a2", _sleeper(log, "a2", 0.1), exclusive=["pair:a", "am"])
    lanes.submit("ab", _sleeper(log, "ab", 0.1), exclusive=["pair:a", "pair:b"])
    assert [lanes.result(n, 10) for n in ("a1", "b1", "a2", "ab")] == ["a1", "b1", "a2", "ab"]
    assert lanes.join(5) == []
    span = _spans(log)
    assert span["a1"][0] < span["b1"][1] and span["b1"][0] < span["a1"][1], "disjoint jobs did not overlap"
    assert span["a2"][0] >= max(span["a1"][1], span["b1"][1]), "the exclusive configuration ran beside its readers"
    assert span["ab"][0] >= span["a2"][1], "a later job on pair:a overtook an earlier one"
    assert "a2" in lanes.timeline() and "am (shared)" in lanes.timeline()


def test_limit_bounds_jobs_running_at_once() -> None:
    running, most = 0, 0
    lock = threading.Lock()

    def job() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.1)
        with lock:
            running -= 1

    lanes = Lanes(limit=2)
    for i in range(5):
        lanes.submit(f"j{i}", job, exclusive=[f"k{i}"])
    assert lanes.join(10) == []
    assert most == 2


def test_a_failing_job_fails_only_its_own_test() -> None:
    lanes = Lanes()

    def broken() -> None:
        raise AssertionError("job a found a problem")

    lanes.submit("a", broken, exclusive=["k"])
    lanes.submit("b", lambda: "fine", exclusive=["k"])  # waits for a, then still runs
    with pytest.raises(AssertionError, match="job a found a problem"):
        lanes.result("a", 5)
    assert lanes.result("b", 5) == "fine"
    with pytest.raises(KeyError, match="no job 'c'"):
        lanes.result("c")
    with pytest.raises(ValueError, match="twice"):
        lanes.submit("a", broken)


def test_everything_conflicts_with_any_hold() -> None:
    drain = Hold(frozenset({EVERYTHING}))
    assert drain.conflicts(Hold()) and Hold().conflicts(drain)
    assert drain.conflicts(Hold(shared=frozenset({"am"})))
    assert not Hold(shared=frozenset({EVERYTHING})).conflicts(Hold())  # only holding it exclusively counts


def test_a_job_after_another_waits_for_it_although_they_share_nothing() -> None:
    log: list[tuple[str, str, float]] = []
    lanes = Lanes(limit=3)
    lanes.submit("setup", _sleeper(log, "setup", 0.2), exclusive=["am"])
    lanes.submit("case", _sleeper(log, "case", 0.05), exclusive=["app:a"], after=["setup"])
    lanes.submit("free", _sleeper(log, "free", 0.05), exclusive=["app:b"])
    assert lanes.join(5) == []
    span = _spans(log)
    assert span["case"][0] >= span["setup"][1], "a job started before the job it comes after finished"
    assert span["free"][0] < span["setup"][1], "a job with no tie waited"
    with pytest.raises(ValueError, match="not submitted before it: \\['nothing'\\]"):
        lanes.submit("orphan", lambda: None, after=["nothing"])


def test_a_hold_waits_for_earlier_conflicting_jobs_and_keeps_later_ones_out() -> None:
    log: list[tuple[str, str, float]] = []
    lanes = Lanes(limit=3)
    lanes.submit("run", _sleeper(log, "run", 0.2), shared=["objects"])
    with lanes.hold("compare", exclusive=["objects"]):
        log.append(("compare", "start", time.monotonic()))
        lanes.submit("later", _sleeper(log, "later", 0.01), shared=["objects"])
        time.sleep(0.1)
        log.append(("compare", "end", time.monotonic()))
    assert lanes.join(5) == []
    span = _spans(log)
    assert span["compare"][0] >= span["run"][1], "the hold began while a conflicting earlier job ran"
    assert span["later"][0] >= span["compare"][1], "a later job ran inside the hold"


def test_a_failed_job_no_test_awaited_fails_the_session(tmp_path: Path) -> None:
    lanes = Lanes()

    def restore() -> None:
        raise RuntimeError("could not restore the routes")

    lanes.submit("restore", restore)
    lanes.submit("awaited", lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        lanes.result("awaited", 5)
    assert lanes.join(5) == []
    assert lanes.unawaited_failures() == ["restore: RuntimeError: could not restore the routes"]
    with pytest.raises(AssertionError, match="no test awaited failed:\\nrestore: RuntimeError"):
        lanes.finish(tmp_path, "e2e", 5)
    assert "restore" in (tmp_path / "lanes.txt").read_text()


# --- the live alert side: how long a notification may still take -----------------------------

LABELS = {"alertname": "AppHighErrorRatio", "severity": "critical", "app": "sample2-app", "env": "test"}
EXPECTED = ExpectedAlert(LABELS, ("pager",))


def _stamp(epoch: float) -> str:
    # Alertmanager writes nanoseconds
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch % 1 * 1e9):09d}Z"


class FakePrometheus:
    def __init__(self) -> None:
        self.firing: list[dict[str, Any]] = []

    def custom_query(self, query: str) -> list[dict[str, Any]]:
        return self.firing


class FakeStack:
    """Alertmanager's /api/v2/alerts and Prometheus' flags, as the API server's proxy answers them."""

    def __init__(self) -> None:
        self.alerts: list[dict[str, Any]] = []
        self.notes: list[dict[str, Any]] = []
        self.prom = FakePrometheus()

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
    ) -> CompletedProcess[str]:
        path = args[-1]
        if path.endswith("/api/v2/alerts"):
            body: Any = self.alerts
        elif path.endswith("/status/flags"):
            body = {"status": "success", "data": {"rules.alert.resend-delay": "1m"}}
        elif path.endswith("/notifications"):
            body = self.notes
        else:
            raise AssertionError(f"unexpected kubectl {args}")
        return CompletedProcess(list(args), 0, json.dumps(body), "")

    def prometheus(self) -> Any:
        return self.prom

    def set_fault(self, app: str, fault: dict[str, Any] | None) -> list[str]:
        return []

    def url(self, app: str) -> str:
        return "http://127.0.0.1:1"


def _held(receivers: list[str], state: str = "active", starts: float | None = None) -> dict[str, Any]:
    now = time.time()
    return {
        "labels": {**LABELS, "namespace": "test"},
        "startsAt": _stamp(starts if starts is not None else now),
        "endsAt": _stamp(now + 240),
        "receivers": [{"name": r} for r in receivers],
        "status": {"state": state, "inhibitedBy": [], "silencedBy": []},
    }


def _live(stack: FakeStack) -> alerting.Live:
    return alerting.Live(stack, "monitoring", {})


def test_hopeless_once_alertmanager_routes_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    stack = FakeStack()
    live = _live(stack)
    after = time.time() - 1
    assert live.hopeless(EXPECTED, "pager", "firing", after) is None  # nothing held, nothing firing yet
    stack.alerts = [_held(["email-staging"])]
    assert live.hopeless(EXPECTED, "pager", "firing", after) is None  # within the grace
    later = time.monotonic() + alerting.DELIVERY_GRACE + 1
    monkeypatch.setattr(alerting.time, "monotonic", lambda: later)
    why = live.hopeless(EXPECTED, "pager", "firing", after)
    assert why and "routes it to ['email-staging'], not pager" in why
    assert live.hopeless(EXPECTED, "pager", "resolved", after) is None  # resolutions are waited out


def test_chosen_receiver_gets_group_wait_plus_interval_and_slack(monkeypatch: pytest.MonkeyPatch) -> None:
    stack = FakeStack()
    live = _live(stack)
    after = time.time() - 1
    stack.alerts = [_held(["pager"])]
    begun = time.monotonic()
    assert live.hopeless(EXPECTED, "pager", "firing", after) is None
    limit = sum(live.grouping) + alerting.DELIVERY_GRACE + alerting.DELIVERY_SLACK
    monkeypatch.setattr(alerting.time, "monotonic", lambda: begun + limit - 1)
    assert live.hopeless(EXPECTED, "pager", "firing", after) is None
    monkeypatch.setattr(alerting.time, "monotonic", lambda: begun + limit + 1)
    assert "no notification came" in (live.hopeless(EXPECTED, "pager", "firing", after) or "")


def test_an_alert_older_than_the_fault_or_suppressed(monkeypatch: pytest.MonkeyPatch) -> None:
    stack = FakeStack()
    live = _live(stack)
    after = time.time()
    stack.alerts = [_held(["email-staging"], starts=after - 600)]  # an earlier fault's alert
    begun = time.monotonic()
    assert live.hopeless(EXPECTED, "pager", "firing", after) is None
    monkeypatch.setattr(alerting.time, "monotonic", lambda: begun + 100)
    assert live.hopeless(EXPECTED, "pager", "firing", after) is None  # not this fault's: not judged
    stack.alerts = [_held(["pager"], state="suppressed")]
    live.hopeless(EXPECTED, "pager", "firing", after)
    monkeypatch.setattr(alerting.time, "monotonic", lambda: begun + 200)
    assert "suppressed" in (live.hopeless(EXPECTED, "pager", "firing", after) or "")


def test_firing_in_prometheus_but_never_held_waits_the_resend_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    stack = FakeStack()
    live = _live(stack)
    stack.prom.firing = [{"metric": LABELS}]
    begun = time.monotonic()
    after = time.time()
    assert live.hopeless(EXPECTED, "pager", "firing", after) is None
    monkeypatch.setattr(alerting.time, "monotonic", lambda: begun + 60 + alerting.DELIVERY_SLACK - 1)
    assert live.hopeless(EXPECTED, "pager", "firing", after) is None
    monkeypatch.setattr(alerting.time, "monotonic", lambda: begun + 60 + alerting.DELIVERY_SLACK + 1)
    assert "Alertmanager does not hold it" in (live.hopeless(EXPECTED, "pager", "firing", after) or "")


class HopelessSide:
    """A side whose notification never comes and whose state says so after two looks."""

    patience = Patience(fired=600, resolved=600, prometheus=0, interval=0.01)

    def __init__(self) -> None:
        self.looks = 0

    def traffic(self, case: FaultCase, out: Path | None) -> Any:
        return nullcontext()

    def inject(self, case: FaultCase) -> None: ...
    def clear(self, case: FaultCase) -> None: ...

    def first(self, receiver: str, labels: dict[str, str], status: str, after: float) -> float | None:
        return None

    def firing(self, labels: dict[str, str]) -> bool:
        return True

    def missed(self, expected: ExpectedAlert, receiver: str, after: float) -> str:
        return f"{expected.name} did not reach receiver {receiver}"

    def unexpected(self, case: FaultCase, since: float) -> list[str]:
        return []

    def hopeless(self, expected: ExpectedAlert, receiver: str, status: str, after: float) -> str | None:
        self.looks += 1
        return "routed elsewhere" if self.looks >= 2 else None


def test_run_case_stops_waiting_when_the_side_says_hopeless() -> None:
    case = FaultCase("half 500", "sample2-app", "test", {"error_ratio": 0.5}, (EXPECTED,))
    rule = AlertRule("AppHighErrorRatio", "x > 0.25", "1m", {"severity": "critical"}, {}, "g", "rules.yaml")
    timing = Profile("e2e", "1s", "1s", "1s", "2s", {"group_wait": "1s", "group_interval": "2s"})
    side = HopelessSide()
    begun = time.monotonic()
    result = scenario.run_case(case, side, RuleSet([], [rule]), timing)
    assert time.monotonic() - begun < 5, "waited out the bound although the side said the notification cannot come"
    assert result.problems == ["AppHighErrorRatio did not reach receiver pager"]
    assert side.looks == 2


class RecordingSide(HopelessSide):
    """A side whose notifications arrive at once; it records what happened in which order."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def inject(self, case: FaultCase) -> None:
        self.calls.append("inject")

    def clear(self, case: FaultCase) -> None:
        self.calls.append("clear")

    def first(self, receiver: str, labels: dict[str, str], status: str, after: float) -> float | None:
        self.calls.append(status)
        return after + 1


def test_while_firing_runs_after_the_notifications_and_before_the_fault_is_cleared() -> None:
    case = FaultCase("half 500", "sample2-app", "test", {"error_ratio": 0.5}, (EXPECTED,))
    rule = AlertRule("AppHighErrorRatio", "x > 0.25", "1m", {"severity": "critical"}, {}, "g", "rules.yaml")
    timing = Profile("e2e", "1s", "1s", "1s", "2s", {"group_wait": "1s", "group_interval": "2s"})
    side = RecordingSide()
    result = scenario.run_case(case, side, RuleSet([], [rule]), timing, while_firing=lambda: side.calls.append("hook"))
    assert side.calls == ["inject", "firing", "hook", "clear", "resolved"]
    assert result.problems == [] and result.observations[0].fired_after is not None
