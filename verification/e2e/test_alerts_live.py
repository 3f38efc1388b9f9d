"""Alerts live: faults of platform/intent/alerts.yaml injected into the apps on the cluster reach
the expected receivers through the cluster's own Prometheus and Alertmanager, and resolve.

- The e2e alert receiver (image alert-receiver) runs in namespace default with the label
  platform.io/alert-receiver=true (the platform's NetworkPolicies let Alertmanager reach only such
  pods); the platform's Alertmanager configuration is applied with each receiver's integrations
  replaced by a webhook to it (verification.alerting.loopback.loopback_alertmanager_config), and
  Prometheus gets the timing profile's intervals. Rules, routes and inhibitions stay as in git.
  Both are restored from the repository afterwards.
- Faults go through each active pod's fault control (API server pod proxy), traffic through the
  NodePort; Prometheus and the receiver are read through the API server's service proxy.
- Covered here: the Watchdog heartbeat and every fault case in the namespace the apps run in
  (`test`) that the fault control can cause; the others are listed as not covered, with why.
- One fault serves three tests: while a case's alert fires (after its notifications arrived),
  its app's dashboard panels are read, and for one case the Alertmanager configuration gets one
  receiver swapped in the route tree (broken platform): the same delivery check must fail,
  naming where the alert went and what the live routes say; the repository's routes go back
  before the fault is cleared and the resolution is awaited. One `for` is waited, not three.
- Side by side (verification.e2e.concurrent): each live check is a job holding what it touches:
  the faults and load of an app (`app:<app>`, exclusive, as a blue-green run holds it) and the
  Alertmanager configuration (shared while it is the repository's, exclusive while a test breaks
  it). The heartbeat shares nothing but the configuration with a fault case, so they run together;
  an app no case faults gets a job of its own for its panels. The one receiver and the one
  Alertmanager are shared, so every observation is keyed: a case reads only notifications carrying
  its own alert's labels (alertname, app, env, severity) received after its fault began, the
  heartbeat only the Watchdog's; and a case first waits until no alert of its own is pending or
  firing, so an earlier job's alert cannot answer for it. Waits follow Prometheus and
  Alertmanager: a notification is awaited until the alert's bound (scrape, evaluation, `for`,
  group_wait) with patience, or less once Alertmanager's own state says where it goes
  (verification.probes.alerting.Live.hopeless).
"""

import contextlib
import copy
import functools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from verification.alerting import scenario
from verification.alerting.loopback import Profile, loopback_alertmanager_config, profile
from verification.alerting.scenario import RESOLVE_TIMEOUT
from verification.e2e import diagnostics
from verification.e2e.concurrent import PLATFORM_TRAFFIC, Lanes, Spec, app_key
from verification.e2e.stack import APP_NAMESPACE, APPS, MONITORING, Stack, apply
from verification.errors import WaitTimeout
from verification.load import LoadConfig, background
from verification.models.monitoring import alert_intent, alerts, dashboards, routes
from verification.models.monitoring.alert_intent import ExpectedAlert, FaultCase
from verification.paths import MANIFESTS
from verification.probes.alerting import RECEIVER, RECEIVER_NS, Live, Platform
from verification.versions import versions
from verification.wait import wait_for
from verification.yamlio import load_manifests, parse

WEBHOOK = f"http://{RECEIVER}.{RECEIVER_NS}.svc.cluster.local:8080/hook"
TOKEN_FILE = Path("/etc/alertmanager/secrets/alertmanager-receivers/heartbeat-token")
INTENT = alert_intent.load()
RESTORED = (MANIFESTS / "monitoring" / "alertmanager-config.yaml", MANIFESTS / "monitoring" / "prometheus.yaml")
AM_CONFIG = "alertmanager-config"  # what a job holds: shared to rely on it, exclusive to break it
JOB_TIMEOUT = 1200.0  # seconds a test waits for its job (the job's own waits are shorter)
AM_POD = "alertmanager-platform-0"
PROMETHEUS_POD = "prometheus-platform-0"
NUDGE = "platform-verify.io/synced-at"  # a pod annotation the alert tests set to make the kubelet sync it


@functools.cache
def _monitoring_objects() -> tuple[dict[str, Any], ...]:
    return tuple(load_manifests([MANIFESTS / "monitoring"]))


def monitoring_objects() -> list[dict[str, Any]]:
    """The repository's monitoring manifests, read once per session (readers get a fresh list)."""
    return list(_monitoring_objects())


def _receiver_objects() -> list[dict[str, Any]]:
    labels = {"app.kubernetes.io/name": RECEIVER, "platform.io/alert-receiver": "true"}
    pod = {
        "metadata": {"labels": labels},
        "spec": {
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": RECEIVER,
                    "image": versions()["images"][RECEIVER],
                    "imagePullPolicy": "IfNotPresent",
                    "ports": [{"name": "http", "containerPort": 8080}],
                    "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 2},
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }
    return [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": RECEIVER, "namespace": RECEIVER_NS},
         "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": pod}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": RECEIVER, "namespace": RECEIVER_NS},
         "spec": {"selector": labels, "ports": [{"name": "http", "port": 8080, "targetPort": 8080}]}},
    ]  # fmt: skip


def route_receivers(route: dict[str, Any]) -> list[str]:
    """Receivers of a route tree in walk order (what tells one routing configuration from another)."""
    return [route.get("receiver", ""), *(r for child in route.get("routes") or [] for r in route_receivers(child))]


def _nudge(stack: Stack | Platform, pod: str) -> None:
    """Have the kubelet sync `pod` now: a pod update refreshes its Secret volumes at once, where
    the periodic sync takes up to a minute or more, so the reloader sees the operator's new
    configuration sooner (what runs is still read from the component itself)."""
    stack.kubectl("-n", MONITORING, "annotate", "pod", pod, f"{NUDGE}={time.time():.0f}", "--overwrite", check=False)


def apply_alertmanager(
    live: Live, cfg: dict[str, Any], timing: Profile, out: Path, *, wait: bool = True
) -> dict[str, Any]:
    """Apply `cfg` in loopback form and (unless `wait` is False) wait until Alertmanager runs it;
    returns the loopback form."""
    looped = loopback_alertmanager_config(cfg, WEBHOOK, TOKEN_FILE, timing)
    out.mkdir(parents=True, exist_ok=True)
    routes.write_config(looped, out)
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": "alertmanager-platform-config", "namespace": MONITORING},
              "stringData": {routes.CONFIG_KEY: yaml.safe_dump(looped, sort_keys=False)}}  # fmt: skip
    live.stack.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=json.dumps(secret))
    if wait:
        await_routes(live, looped, out)
    return looped


def await_routes(live: Live, looped: dict[str, Any], out: Path) -> None:
    """Wait until Alertmanager runs the routes of `looped` (written to `out`)."""
    want = route_receivers(looped["route"])

    def running() -> list[str]:
        have = route_receivers(live.alertmanager_config().get("route") or {})
        if have != want:
            _nudge(live.stack, AM_POD)
        return have

    wait_for(running, what=f"Alertmanager to load the configuration in {out}", timeout=180, interval=2,
             until=lambda have: have == want, describe=lambda have: f"routes to {have}, want {want}")  # fmt: skip


def _timing_profile(stack: Stack, timing: Profile) -> float:
    """Patch Prometheus to the profile's intervals and wait until it runs them: every bound and
    deadline of a case counts in them (the operator renders the patch, the reloader applies it,
    ~100 s on an idle cluster); the seconds it took. Read through the pod's proxy, not the
    Service's: this runs beside the NetworkPolicy matrix, whose probe pods carry Prometheus' labels."""
    begun = time.monotonic()
    stack.require_prometheus()
    patch = {"spec": {"scrapeInterval": timing.scrape_interval, "scrapeTimeout": timing.scrape_timeout,
                      "evaluationInterval": timing.evaluation_interval}}  # fmt: skip
    stack.kubectl("-n", MONITORING, "patch", "prometheus", "platform", "--type=merge", "-p", json.dumps(patch))
    path = f"/api/v1/namespaces/{MONITORING}/pods/{PROMETHEUS_POD}:9090/proxy/api/v1/status/config"
    want = {"scrape_interval": timing.scrape_interval, "evaluation_interval": timing.evaluation_interval}

    def running() -> dict[str, str]:
        config = parse(json.loads(stack.kubectl("get", "--raw", path).stdout)["data"]["yaml"], "Prometheus config")
        have = {k: str((config.get("global") or {}).get(k)) for k in want}
        if have != want:
            _nudge(stack, PROMETHEUS_POD)
        return have

    wait_for(running, what="Prometheus to run the timing profile's intervals", timeout=240, interval=2,
             until=lambda have: have == want, describe=lambda have: f"{have}, want {want}")  # fmt: skip
    return round(time.monotonic() - begun, 1)


SETUP = "alerts: loopback receiver, clean Alertmanager"
TIMING = "alerts: Prometheus on the timing profile"


def _setup(stack: Stack, timing: Profile, artifacts: Path) -> Live:
    """The receiver, the timing profile and the loopback routes, in a fresh Alertmanager; each
    step's seconds in <artifacts>/alerts-live/setup-timings.json."""
    steps: dict[str, float] = {}
    begun = time.monotonic()

    def done(step: str) -> None:
        nonlocal begun
        steps[step] = round(time.monotonic() - begun, 1)
        begun = time.monotonic()

    objects = monitoring_objects()
    listing = {"apiVersion": "v1", "kind": "List", "items": _receiver_objects()}
    stack.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=json.dumps(listing))
    found = Live(stack, MONITORING, _repository_loopback())
    found.grouping = (alerts.duration_seconds(timing.alertmanager["group_wait"]),
                      alerts.duration_seconds(timing.alertmanager["group_interval"]))  # fmt: skip
    since = time.time()  # the heartbeat counts from here: the Watchdog may arrive before the setup ends
    config = artifacts / "alerts-live" / "config"
    looped = apply_alertmanager(found, routes.config(objects), timing, config, wait=False)
    done("receiver and loopback configuration applied")
    # A reused cluster's Alertmanager remembers what it sent (notification log, emptyDir) for the
    # repeat interval: an alert that fired in an earlier run would not be sent again. Start clean,
    # with the loopback configuration already in its Secret.
    stack.kubectl("-n", MONITORING, "delete", "pod", AM_POD, "--wait=true", timeout=150)
    done("Alertmanager pod deleted")
    stack.kubectl("-n", MONITORING, "rollout", "status", "statefulset/alertmanager-platform", "--timeout=180s",
                  timeout=200)  # fmt: skip
    done("Alertmanager pod running again")
    await_routes(found, looped, config)
    done("Alertmanager runs the loopback routes")
    stack.kubectl("-n", RECEIVER_NS, "rollout", "status", f"deployment/{RECEIVER}", "--timeout=120s", timeout=150)
    done("receiver running")
    (config.parent / "setup-timings.json").write_text(json.dumps(steps, indent=1) + "\n")
    found.since = since
    return found


def _restore(stack: Stack) -> None:
    """The repository's Alertmanager configuration and Prometheus back; the receiver gone."""
    apply(stack.cluster, *RESTORED)
    stack.kubectl("-n", RECEIVER_NS, "delete", "deployment,service", RECEIVER, "--ignore-not-found", check=False)


def _covered(case: FaultCase, namespace: str) -> str | None:
    """Why a case cannot run on this stack (None: it can)."""
    if case.env != namespace:
        return f"the apps run in namespace {namespace} only (the case needs env {case.env})"
    if case.stops_app:
        return "stopping every pod removes the scrape targets (absent, not down); the loopback test covers it"
    return None


COVERED = [c for c in INTENT.faults if _covered(c, APP_NAMESPACE) is None]


def test_uncovered_cases_are_listed() -> None:
    """The cases this stack cannot cause are named with the reason (never skipped silently)."""
    lines = [f"{c.name}: {why}" for c in INTENT.faults if (why := _covered(c, APP_NAMESPACE))]
    print("\nalert intent cases not covered live:\n" + "\n".join(lines))
    assert COVERED, "no alert intent case can run live on this stack"


def _heartbeat(live: Live) -> tuple[list[tuple[str, float, float]], float]:
    """The Watchdog at each heartbeat receiver: (receiver, first, second arrival); the repeat interval."""
    expected = INTENT.heartbeat
    heartbeat = next(r for r in routes.config(monitoring_objects())["route"]["routes"]
                     if r.get("receiver") in expected.receivers)  # fmt: skip
    repeat = alerts.duration_seconds(heartbeat.get("repeat_interval"))
    assert repeat, f"the heartbeat route {heartbeat} sets no repeat_interval"
    seen = []
    for receiver in expected.receivers:
        first = wait_for(
            functools.partial(live.first, receiver, expected.labels, "firing", live.since),
            what=f"Watchdog at receiver {receiver} after the configuration was applied",
            timeout=repeat + 120,
            interval=2,
        )
        assert first is not None  # wait_for returns a truthy answer
        second = wait_for(
            functools.partial(live.first, receiver, expected.labels, "firing", first + 1),
            what=f"the Watchdog repeated at {receiver} (route repeat_interval {repeat:.0f}s)",
            timeout=repeat + 60,
            interval=2,
        )
        assert second is not None
        seen.append((receiver, first, second))
    return seen, repeat


def _quiet(live: Live, alert: ExpectedAlert) -> None:
    """Wait until `alert` is neither pending nor firing: an earlier job's alert of the same labels
    (its fault cleared, its rate window still draining) would otherwise answer for this job's."""
    selector = ",".join(f'{k}="{v}"' for k, v in alert.labels.items())
    wait_for(
        functools.partial(live.prometheus.custom_query, f"ALERTS{{{selector}}}"),
        what=f"{alert.name} {alert.labels} neither pending nor firing before its fault",
        timeout=RESOLVE_TIMEOUT + 60,
        interval=2,
        until=lambda found: not found,
        describe=lambda found: f"{len(found)} series: {[s['metric'].get('alertstate') for s in found]}",
    )


def _attempt(found: dict[str, Any], key: str, check: Callable[[], Any]) -> None:
    """found[key] = what `check` returns, or the exception it raised (raised again in its own test)."""
    try:
        found[key] = check()
    except Exception as exc:  # noqa: BLE001 - the test that owns this part raises it
        found[key] = exc


def _case(
    live: Live, case: FaultCase, folder: Path, misroute: tuple[str, str] | None, panels: bool, timing: Profile
) -> dict[str, Any]:
    """The case on the cluster (scenario.run_case, e2e timing): its problems and latency table; while
    its alert fires, the app's dashboard panels (`panels`) and the delivery check with `misroute`'s
    receivers swapped in the routes (one fault, one `for` to wait, for the three tests)."""
    live.set_fault(case.app, None)  # a killed run's fault stays in the app's memory and keeps its alert firing
    for expected in case.alerts:
        _quiet(live, expected)
    found: dict[str, Any] = {}

    def while_firing() -> None:
        if panels:
            _attempt(found, "panels", functools.partial(_panel_counts, live, case.app))
        if misroute:
            _attempt(found, "misroute", functools.partial(_misrouted, live, case, *misroute, timing, folder))

    out = folder / case.app / case.name
    result = scenario.run_case(case, live, alerts.rule_set(monitoring_objects()), profile("e2e"), out, while_firing)
    return {"problems": result.problems, "table": scenario.table(result.observations), **found}


def _repository_loopback() -> dict[str, Any]:
    return loopback_alertmanager_config(routes.config(monitoring_objects()), WEBHOOK,
                                        TOKEN_FILE, profile("e2e"))  # fmt: skip


def swap_receiver(cfg: dict[str, Any], receiver: str, other: str) -> dict[str, Any]:
    """`cfg` with `receiver` and `other` swapped in the route tree (a copy-paste slip in a route)."""
    broken = copy.deepcopy(cfg)

    def walk(route: dict[str, Any]) -> None:
        if route.get("receiver") in (receiver, other):
            route["receiver"] = other if route["receiver"] == receiver else receiver
        for child in route.get("routes") or []:
            walk(child)

    walk(broken["route"])
    return broken


def _misroutable() -> tuple[FaultCase, str, str] | None:
    """A covered case, one of its receivers, and another receiver to swap it with in the routes;
    never a heartbeat receiver (the heartbeat runs beside the swap and relies on its route)."""
    heartbeat = set(INTENT.heartbeat.receivers)
    names = sorted(r["name"] for r in routes.config(monitoring_objects())["receivers"])
    for case in COVERED:
        for expected in case.alerts:
            for receiver in (r for r in expected.receivers if r not in heartbeat):
                others = [n for n in names if n != receiver and n not in heartbeat]
                if others:
                    return case, receiver, others[0]
    return None


def _misrouted(
    live: Live, case: FaultCase, receiver: str, other: str, timing: Profile, artifacts: Path
) -> tuple[str, str, str, list[str]]:
    """With the case's alert firing, `receiver` and `other` swapped in the live routes: the delivery
    check's problems (it must miss `receiver` and say why); the repository's routes go back after.

    Alertmanager re-routes the firing alert on reload, so `other` is notified at once; `receiver`
    gets nothing new either way (its notification log holds the alert), so what this proves is
    the verdict: where the alert went and what the live routes say, against the repository's."""
    out = artifacts / "broken-route"
    repository = routes.config(monitoring_objects())
    expected = next(e for e in case.alerts if receiver in e.receivers)
    # From before the swap is applied: Alertmanager notifies `other` the moment it reloads, which
    # can be up to a poll before the wait below sees the new routes (taken after, the notification
    # was "before" it and the wait ran out its 90 s).
    swapped = time.time()
    apply_alertmanager(live, swap_receiver(repository, receiver, other), timing, out / "config")
    problems: list[str] = []
    try:
        # The evidence that the swap took: the firing alert reached `other` (within group_wait of
        # the reload). Not scenario.arrival: its hopeless check reads only alerts that began after
        # `after`, and this one began before the swap, so it waited out Prometheus' resend instead.
        with contextlib.suppress(WaitTimeout):  # the verdict below says where it went
            wait_for(functools.partial(live.first, other, expected.labels, "firing", swapped),
                     what=f"{case.name}: {expected.name} at {other} once the routes send it there",
                     timeout=live.patience.fired, interval=live.patience.interval)  # fmt: skip
        if live.first(receiver, expected.labels, "firing", swapped) is None:
            problems.append(live.missed(expected, receiver, swapped))
    finally:
        apply_alertmanager(live, repository, timing, artifacts / "config")
    return case.name, receiver, other, problems


# Panels that cannot have data on the e2e stack, with why (printed, never silently skipped).
NO_DATA_ON_E2E = {"argocd": "no ArgoCD controller runs on e2e (no offline image): argocd_* metrics have no source"}
Panels = tuple[dict[str, int], list[str]]  # series per panel query, panels not covered on e2e
PANELS_TIMEOUT = 240.0  # seconds: the slowest panel waits for a rule's `for: 1m` with scrapes to spare


def _panel_counts(live: Live, app: str) -> Panels:
    """Series of each panel query of `app`'s dashboard and of the dashboards of no app, while a
    fault of `app` fires (error and firing-alert panels read series that exist only then)."""
    counts: dict[str, int] = {}
    not_covered: list[str] = []
    for query in dashboards.queries(dashboards.load(monitoring_objects())):
        if query.dashboard in NO_DATA_ON_E2E:
            not_covered.append(f"{query.where}: {NO_DATA_ON_E2E[query.dashboard]}")
        elif query.dashboard == app or query.dashboard not in APPS:
            counts[f"{query.where}: {query.expr}"] = len(live.prometheus.custom_query(query.expr))
    return counts, not_covered


def _panels_alone(live: Live, stack: Stack, app: str, artifacts: Path) -> Panels:
    """`app`'s panels under a fault of its own and light load (an app no selected case faults)."""
    fault = next((c.fault for c in COVERED if isinstance(c.fault, dict)), None)
    assert fault, "no covered alert case injects a fault through the fault control"
    load = LoadConfig(stack.url(app) + "/", rate=10, duration=900, concurrency=4)
    with background(load, artifacts / "dashboards-live" / app, stop_on_exit=True):
        live.set_fault(app, fault)
        try:
            # Until every panel shows data (an error ratio needs two scrapes of 5xx answers, the
            # firing-alert panel the rule's `for`); "an alert of the app firing" was not enough: an
            # earlier job's alert of the app answered for it at once, before any 5xx was scraped.
            return wait_for(
                functools.partial(_panel_counts, live, app),
                what=f"every panel of {app}'s dashboard to show data under its fault",
                timeout=PANELS_TIMEOUT,
                interval=3,
                until=lambda found: all(found[0].values()),
                describe=lambda found: "no data yet: " + ", ".join(q for q, n in found[0].items() if not n),
            )
        except WaitTimeout:
            return _panel_counts(live, app)  # the test names the panels still empty
        finally:
            live.set_fault(app, None)


JOB_ORDER = 3  # after the blue-green runs of the apps (verification.e2e.concurrent)
TOUCHED = (MONITORING, APP_NAMESPACE, RECEIVER_NS)  # a failing test's diagnostics cover these
CASE_TEST = "test_fault_reaches_receivers_and_resolves"
HEARTBEAT = "alerts: heartbeat"


def _selected(items: list[pytest.Item], name: str) -> list[pytest.Item]:
    return [item for item in items if getattr(item, "originalname", item.name) == name]


def _case_of(item: pytest.Item) -> FaultCase:
    case: FaultCase = getattr(item, "callspec").params["case"]  # noqa: B009 - a parametrized Function has one
    return case


def _plan(items: list[pytest.Item]) -> tuple[dict[str, FaultCase], dict[str, str], tuple[FaultCase, str, str] | None]:
    """For this module's selected `items`: the case jobs (job name -> case; the broken route's case
    runs even when its own test is not selected), the job that gives each app's dashboard panels
    (a case of the app, read while its alert fires; else a job of the panels alone), and the
    broken route (case, receiver, other)."""
    module = items[0].nodeid.split("::")[0] if items else ""
    runs = {item.nodeid: _case_of(item) for item in _selected(items, CASE_TEST)}
    choice = _misroutable() if _selected(items, "test_broken_platform_wrong_alert_route_is_named") else None
    if choice and choice[0] not in runs.values():
        runs[f"{module}::{CASE_TEST}[{choice[0].name}]"] = choice[0]
    panels: dict[str, str] = {}
    if _selected(items, "test_every_dashboard_panel_query_returns_data"):
        for app in APPS:
            panels[app] = next((name for name, case in runs.items() if case.app == app), f"alerts: panels of {app}")
    return runs, panels, choice


def jobs(lanes: Lanes, stack: Stack, config: pytest.Config, artifacts: Path, items: list[pytest.Item]) -> list[Spec]:
    """The setup, every case (carrying the broken route and its app's panels), the panels of apps
    no case faults, the heartbeat, and the restore last. Each job reads the setup's Live."""
    timing = profile(config.getoption("--e2e-profile"))
    # The intervals first, beside the NetworkPolicy matrix: Prometheus takes ~100 s to reload.
    specs = [Spec(TIMING, functools.partial(_timing_profile, stack, timing), ("prometheus-config",), order=0),
             Spec(SETUP, functools.partial(_setup, stack, timing, artifacts), (AM_CONFIG,), (PLATFORM_TRAFFIC,),
                  (TIMING,))]  # fmt: skip
    runs, panels, choice = _plan(items)
    if _selected(items, "test_heartbeat_reaches_its_receiver_and_repeats"):
        # Not a reader of the routes the broken-route case swaps: the swap never touches the
        # heartbeat's receiver (_misroutable), and a reload keeps the repeat timing (Alertmanager's
        # notification log). Holding them shared made the case wait ~60 s for the heartbeat.
        specs.append(Spec(HEARTBEAT, lanes.passing(SETUP, _heartbeat), (), (PLATFORM_TRAFFIC,), (SETUP,)))
    for name, case in runs.items():
        misroute = choice[1:] if choice and choice[0] == case else None
        carries_panels = panels.get(case.app) == name
        run = lanes.passing(SETUP, _case, case, artifacts / "alerts-live", misroute, carries_panels, timing)
        # Breaking the routes excludes every reader of the repository's configuration meanwhile.
        am = ((AM_CONFIG,), ()) if misroute else ((), (AM_CONFIG,))
        specs.append(Spec(name, run, (app_key(case.app), *am[0]), (*am[1], PLATFORM_TRAFFIC), (SETUP,)))
    for app, name in panels.items():
        if name not in runs:
            run = lanes.passing(SETUP, _panels_alone, stack, app, artifacts)
            specs.append(Spec(name, run, (app_key(app),), (PLATFORM_TRAFFIC,), (SETUP,)))
    ours = tuple(spec.name for spec in specs)
    specs.append(Spec("alerts: restore the repository's configuration", functools.partial(_restore, stack),
                      (AM_CONFIG,), (), ours))  # fmt: skip
    return specs


def _module_items(request: pytest.FixtureRequest) -> list[pytest.Item]:
    return [item for item in request.session.items if item.path == request.node.path]


def _part(lanes: Lanes, name: str, key: str) -> Any:
    """Part `key` of a case job's result, or a panels job's result (raised again if it raised)."""
    found = lanes.result(name, JOB_TIMEOUT)
    part = found[key] if isinstance(found, dict) else found
    if isinstance(part, BaseException):
        raise part
    return part


@pytest.fixture(autouse=True)
def touched(request: pytest.FixtureRequest) -> None:
    diagnostics.touch(request, *TOUCHED)


@pytest.fixture
def live(lanes: Lanes) -> Live:
    """The setup's Live (its failure fails the tests that need it)."""
    found: Live = lanes.result(SETUP, JOB_TIMEOUT)
    return found


def test_heartbeat_reaches_its_receiver_and_repeats(lanes: Lanes, live: Live) -> None:
    """The Watchdog reaches the heartbeat receiver, then again after the route's repeat interval
    (an external dead-man's switch alarms when the repeats stop, so the repeat is the contract)."""
    seen, repeat = lanes.result(HEARTBEAT, JOB_TIMEOUT)
    for receiver, first, second in seen:
        gap = second - first
        print(f"\nWatchdog at {receiver} {first - live.since:.0f}s after the configuration was applied, "
              f"repeated after {gap:.0f}s (repeat_interval {repeat:.0f}s)")  # fmt: skip
        assert gap <= repeat + 30, f"Watchdog repeated after {gap:.0f}s, the route says every {repeat:.0f}s"


@pytest.mark.parametrize("case", COVERED, ids=lambda c: c.name)
def test_fault_reaches_receivers_and_resolves(lanes: Lanes, case: FaultCase, request: pytest.FixtureRequest) -> None:
    found = lanes.result(request.node.nodeid, JOB_TIMEOUT)
    print("\n" + found["table"])
    assert not found["problems"], "\n".join(found["problems"])


def test_broken_platform_wrong_alert_route_is_named(lanes: Lanes, request: pytest.FixtureRequest) -> None:
    """Deliberately broken platform: a route sends an app's alerts to the other app's receiver."""
    runs, _, choice = _plan(_module_items(request))
    assert choice, "no covered alert case has a per-app receiver to misroute"
    carrier = next(name for name, case in runs.items() if case == choice[0])
    case, receiver, other, problems = _part(lanes, carrier, "misroute")
    print(f"\nverdict with {receiver} and {other} swapped in the routes while {case} fired:\n" + "\n".join(problems))
    named = [p for p in problems if f"did not reach receiver {receiver}" in p]
    assert named, f"{case} still reached {receiver} with the route swapped to {other}: the check cannot fail"
    assert f"it reached ['{other}']" in named[0], f"the red verdict does not say where the alert went: {named[0]}"
    assert "cause: the live Alertmanager configuration routes" in named[0], (
        f"the red verdict does not point at the route: {named[0]}"
    )


def test_every_dashboard_panel_query_returns_data(
    lanes: Lanes, request: pytest.FixtureRequest, artifacts: Path
) -> None:
    """Each Grafana panel query (variables at their defaults) returns data from the live Prometheus.

    Each app's panels are read while a fault of that app fires (a case's, or one of their own), so
    the error and firing-alert panels have something to show; the dashboards of no app each time.
    """
    _, panels, _ = _plan(_module_items(request))
    results: dict[str, int] = {}
    not_covered: list[str] = []
    for name in panels.values():
        counts, not_covered = _part(lanes, name, "panels")
        for query, n in counts.items():
            results[query] = max(n, results.get(query, 0))
    (artifacts / "dashboards-live").mkdir(parents=True, exist_ok=True)
    (artifacts / "dashboards-live" / "panel-series.json").write_text(json.dumps(results, indent=1) + "\n")
    empty = [query for query, n in results.items() if not n]
    print(f"\n{len(results)} panel queries, returned data: {len(results) - len(empty)}; not covered on e2e:\n"
          + "\n".join(not_covered))  # fmt: skip
    assert not empty, f"{len(empty)} dashboard panel queries return no data from the live Prometheus:\n" + "\n".join(
        empty
    )
