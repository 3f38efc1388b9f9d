"""Blue-green under load, per app, through the NodePort on 127.0.0.1 (kind publishes it).

For each app, two loads at once, keep-alive on and off, drive the active Service while the
orchestrator (verification.bluegreen, the one the CLI and GitLab use) deploys a new version to the
idle colour and flips --flips times (default 3: switch, rollback, switch; nightly 5); each load's request
log is judged on its own (one test per mode). Asserted from the request log: zero failed requests;
after each flip no request sent later than the convergence bound (MAX_CONNECTION_AGE_SECONDS +
margin) answers with the old version; every answer carries one of the app's own two versions (each
app gets versions of its own, so an answer from the other app's pods would show). Also: a pod of
the active colour deleted during a switch (and one of the new colour right after the flip) still
gives zero failed requests. Request logs, summaries and timeline PNGs go to
<artifacts>/bluegreen/.

The two apps run side by side (verification.e2e.concurrent): each load run is a job holding its
app (`app:<app>`: Helm release, Deployments, Services, NodePort, fault control and load, which an
alert fault also holds), so one app's runs keep test order and the other app's run beside them;
they share nothing but the namespace and the node. Each app's own load is then the other's
witness: it fails the run on a single failed request or a single answer of a version not its
own, also while the other app deploys and flips. The tests that compare every object of the
namespace (a refused switch changes nothing) hold it alone (`alone`), after every run.

Requests in flight: with every answer slowed, an active pod deleted under load still gives zero
failed requests (preStop delay, drain and grace period together let it finish what it accepted).
Broken platform: the same run with pods that have no preStop delay, no drain and a 1 s grace
period must see failed requests, and the verdict must point at the shutdown settings.

A flip moves traffic and nothing else: the pods (UIDs) and ReplicaSets of both colours are the
same before and after every switch and rollback. A switch whose plan differs beyond the colour
(another --env than the release was deployed with, an environment file edited since the deploy)
is refused, and no object in the namespace changes (resourceVersions before and after).
"""

import functools
import json
import shutil
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from verification import paths
from verification.bluegreen import release
from verification.bluegreen.kube import get_url
from verification.bluegreen.orchestrator import Orchestrator, Refused, connect
from verification.e2e.concurrent import APP_OBJECTS, CPU, PLATFORM_TRAFFIC, Lanes, Spec, app_key
from verification.e2e.stack import APPS, PROFILE, Stack
from verification.load import Event, LoadConfig, LoadRun, Record, background
from verification.models.delivery import chart
from verification.wait import wait_for

RATE = 40  # requests per second on the app under test (2 shared cores), split between a run's loads
JOB_TIMEOUT = 1200.0  # seconds a test waits for its job (the job's own waits are shorter)
MARK_LOOKBACK_NS = 3_000_000_000  # selector polling (1 s) + the Helm upgrade's own latency
RUN_ID = int(time.time()) % 100000  # a fresh version on every run, also on a reused cluster


@dataclass
class Flip:
    event: Event
    before: str
    after: str


def _orchestrator(stack: Stack, app: str, loads: list[LoadRun], events: list[list[Event]]) -> Orchestrator:
    """The orchestrator of `app`, marking each of its steps in every load run (events[i] of loads[i])."""

    def on_event(name: str) -> None:
        for load, marked in zip(loads, events, strict=True):
            marked.append(load.mark(name))

    return connect(app, PROFILE, namespace=stack.namespace, kubeconfig=stack.kubeconfig, url=stack.url(app),
                   on_event=on_event)  # fmt: skip


def _active_version(orch: Orchestrator) -> tuple[str, str]:
    state = orch.state()
    assert state.installed and state.active, f"{orch.target.label} is not installed"
    return state.active, state.colours[state.active].version or "?"


def analyse(records: list[Record], flips: list[Flip], bound: float) -> tuple[list[dict[str, Any]], list[str]]:
    """Per flip: seconds until the last old-version request was sent; old answers after the bound."""
    rows, problems = [], []
    starts = []
    for flip in flips:
        # The orchestrator marks a flip once it has seen the Service's selector change (it polls
        # every second), so the flip really began at the first answer of the new version shortly
        # before the mark, if there is one (flips are more than the bound apart).
        lookback = flip.event.time_ns - MARK_LOOKBACK_NS
        first_new = [r.started_ns for r in records if r.version == flip.after and r.started_ns > lookback]
        starts.append(min([flip.event.time_ns, *first_new[:1]]))
    for i, flip in enumerate(flips):
        start = starts[i]
        end = starts[i + 1] if i + 1 < len(flips) else 2**63
        window = [r for r in records if not r.failed and start < r.started_ns < end]
        old = [r.started_ns for r in window if r.version == flip.before]
        converged = (max(old) - start) / 1e9 if old else 0.0
        late = [r for r in window if r.started_ns > start + bound * 1e9 and r.version != flip.after]
        rows.append({"flip": flip.event.name, "to": flip.after, "converged_s": round(converged, 2),
                     "mark_late_s": round((flip.event.time_ns - start) / 1e9, 2),
                     "old_requests_after_flip": len(old), "requests": len(window)})  # fmt: skip
        if converged > bound:
            problems.append(f"flip #{i + 1} ({flip.event.name} to {flip.after}): old version {flip.before} got a "
                            f"request sent {converged:.2f}s after the flip (bound {bound:.0f}s)")  # fmt: skip
        if late:
            versions = sorted({str(r.version) for r in late})
            problems.append(f"flip #{i + 1} ({flip.event.name} to {flip.after}): {len(late)} answers from "
                            f"{versions} sent after the bound")  # fmt: skip
    return rows, problems


def _failures(records: list[Record]) -> str:
    kinds: dict[str, int] = {}
    for r in records:
        if r.failed:
            kinds[str(r.failure_kind)] = kinds.get(str(r.failure_kind), 0) + 1
    return ", ".join(f"{k}: {n}" for k, n in sorted(kinds.items()))


def shutdown_settings(stack: Stack, app: str) -> list[str]:
    """Why pods of `app` would drop requests when they stop: no preStop delay, no drain (else [])."""
    found = []
    for color in ("blue", "green"):
        deployment = json.loads(stack.kubectl("-n", stack.namespace, "get", "deployment", f"{app}-{color}",
                                              "-o", "json").stdout)  # fmt: skip
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        sleep = ((container.get("lifecycle") or {}).get("preStop") or {}).get("sleep", {}).get("seconds", 0)
        env = {e["name"]: e.get("value") for e in container.get("env") or []}
        drain = int(env.get("DRAIN_DELAY_SECONDS") or 0)
        grace = deployment["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
        if grace <= sleep + drain + SLOW_MS / 1000:
            found.append(
                f"{app}-{color} is killed {grace}s after it is told to stop (terminationGracePeriodSeconds, values "
                "runtime.terminationGracePeriodSeconds): requests still in flight are cut"
            )
        if sleep < 1:
            found.append(
                f"{app}-{color} has no preStop delay (preStop sleep {sleep}s, values runtime.preStopSleepSeconds): "
                "the pod stops before the endpoint removal reaches kube-proxy"
            )
        if drain < 1:
            found.append(
                f"{app}-{color} does not drain (DRAIN_DELAY_SECONDS={drain}, values runtime.drainDelaySeconds): "
                "open keep-alive connections are cut instead of closed after their answer"
            )
    return found


def _version(app: str, keepalive: bool, delete_pods: bool) -> str:
    """A version no other run and no other app gets (so an answer names the app and run it came from)."""
    return f"1.{RUN_ID}.{10 * (APPS.index(app) + 1) + 2 * int(keepalive) + int(delete_pods)}"


def _run(
    stack: Stack, app: str, out: Path, *, flip_count: int = 1, delete_pods: bool = False
) -> dict[bool, tuple[list[str], str]]:
    """One series of flips under two loads at once, keep-alive on and off (a flip must hold for
    both kinds of client, and one series serves both): per keep-alive mode, the problems found
    ([] when the run proves what it should) and its report. With `delete_pods`: one flip, with a
    pod of the active colour deleted meanwhile, under keep-alive only."""
    modes = (True,) if delete_pods else (True, False)
    events: list[list[Event]] = [[] for _ in modes]
    flips: list[tuple[Event, str, str]] = []  # the first load's mark, version before, after
    deleter: threading.Thread | None = None
    _await_quiet(stack, app)
    with ExitStack() as running:
        loads = [running.enter_context(background(
                     LoadConfig(stack.url(app) + "/", rate=RATE // len(modes), duration=900, concurrency=16,
                                keepalive=keepalive),
                     out / ("keepalive" if keepalive else "no-keepalive"), stop_on_exit=True))
                 for keepalive in modes]  # fmt: skip

        def dwell(after_ns: int, what: str) -> None:
            for load in loads:
                load.dwell(after_ns, what)

        def mark(name: str) -> None:
            for load in loads:
                load.mark(name)

        orch = _orchestrator(stack, app, loads, events)
        answering, kept = _active_version(orch)[1], _idle_ready_version(orch)
        # A deletion run needs a switch, not a deploy: when the series left the other version
        # ready in the idle colour, the switch goes there (a deploy would add ~30 s of rollout).
        reuse = delete_pods and kept not in (None, answering)
        version = kept if reuse and kept else _version(app, True, delete_pods)
        own = {answering, version}  # what the app answers with before and after
        bound = orch.convergence_bound()
        dwell(time.time_ns() + 1_000_000_000, "1 s of load before the " + ("switch" if reuse else "deploy"))
        if not reuse:
            mark("deploy")
            tag = _tag(orch)
            orch.deploy(version, tag, stack.digest(app, tag))
        pods_before = _settled_pods(stack, app)
        changed: list[str] = []
        for i in range(1 if delete_pods else flip_count):
            active, before = _active_version(orch)
            if delete_pods:
                victim = _pods(stack, app, active)[0]
                mark(f"delete {victim}")
                deleter = threading.Thread(target=_delete, args=(stack, victim), daemon=True)
                deleter.start()
            outcome = orch.switch(expect_version=version) if i % 2 == 0 else orch.rollback()
            flips.append((events[0][-1], before, outcome.version or "?"))
            if not delete_pods:
                # The flip re-applied the release's own values: no colour got a new pod or ReplicaSet.
                after = _pods_by_colour(stack, app)
                if after != pods_before:
                    changed.append(
                        f"flip #{i + 1} ({outcome.action}) replaced pods: before {pods_before}, after {after}"
                    )
            if delete_pods:
                victim = _pods(stack, app, outcome.active_after or "")[0]
                mark(f"delete {victim}")
                _delete(stack, victim)
            dwell(events[0][-1].time_ns + int((bound + 1) * 1e9), f"{bound + 1:.0f}s of load after the flip")
        if deleter is not None:
            deleter.join(60)
            for color in ("blue", "green"):
                stack.kubectl("-n", stack.namespace, "rollout", "status", f"deployment/{app}-{color}",
                              "--timeout=180s", timeout=200)  # fmt: skip
        mark("end")
    verdicts = {}
    for keepalive, load, marked in zip(modes, loads, events, strict=True):
        mode = "keepalive" if keepalive else "no-keepalive"
        result = load.result
        assert result is not None
        # Each load's own mark of each flip (the orchestrator marked the loads one after another).
        own_flips = [Flip(marked[events[0].index(first)], before, after) for first, before, after in flips]
        rows, problems = analyse(result.records, own_flips, bound)
        summary = result.summary()
        report = (f"{app} {mode}: {summary.sent} requests, {summary.failed} failed, versions {summary.by_version}, "
                  f"latency {summary.latency_ms}; flips: {rows}; files: {result.files.get('plot')}")  # fmt: skip
        found = [f"{app} {mode}: {p}" for p in problems + changed]
        if summary.failed:
            causes = shutdown_settings(stack, app)
            found.insert(0, f"{app} {mode}: {summary.failed} failed requests ({_failures(result.records)})"
                         + ("; cause: " + "; ".join(causes) if causes else ""))  # fmt: skip
        strangers = {str(r.version) for r in result.records if not r.failed} - own
        if strangers:
            found.append(f"{app} {mode}: answers with versions {sorted(strangers)}, not its own {sorted(own)}")
        verdicts[keepalive] = (found, report)
    return verdicts


def _idle_ready_version(orch: Orchestrator) -> str | None:
    """The version of the idle colour when every pod of it is ready and current, else None."""
    state = orch.state()
    idle = state.colours.get(chart.other(state.active)) if state.active else None
    return idle.version if idle is not None and idle.unready_reason() is None else None


def _tag(orch: Orchestrator) -> str:
    state = orch.state()
    return state.colours[state.active or "blue"].tag or "1.0.0"


def _pods(stack: Stack, app: str, color: str) -> list[str]:
    out = stack.kubectl("-n", stack.namespace, "get", "pods", "-l", f"app.kubernetes.io/name={app},color={color}",
                        "--field-selector=status.phase=Running", "-o", "name").stdout.split()  # fmt: skip
    assert out, f"no running pod of {app}-{color}"
    return [name.split("/", 1)[1] for name in out]


def _delete(stack: Stack, pod: str) -> None:
    stack.kubectl("-n", stack.namespace, "delete", "pod", pod, "--wait=false", check=False)


def _pods_by_colour(stack: Stack, app: str) -> dict[str, list[tuple[str, str, str]]]:
    """(pod, uid, ReplicaSet) of each colour's running pods (terminating ones left out)."""
    pods = json.loads(stack.kubectl("-n", stack.namespace, "get", "pods", "-l", f"app.kubernetes.io/name={app}",
                                    "-o", "json").stdout)["items"]  # fmt: skip
    found: dict[str, list[tuple[str, str, str]]] = {c: [] for c in chart.COLORS}
    for pod in pods:
        meta = pod["metadata"]
        if meta.get("deletionTimestamp"):
            continue
        owner = next((o["name"] for o in meta.get("ownerReferences") or [] if o["kind"] == "ReplicaSet"), "?")
        found.setdefault(meta["labels"].get("color", "?"), []).append((meta["name"], meta["uid"], owner))
    return {c: sorted(v) for c, v in found.items()}


QUIET = 5  # answers in a row, each within QUIET_SECONDS, before a zero-loss run starts its load
QUIET_SECONDS = 1.0


def _await_quiet(stack: Stack, app: str) -> None:
    """The app answers promptly before a run that must lose nothing begins: the harness's own
    churn (e.g. 44 probe pods torn down, the CNI resyncing) stalled the node for 15 s once, and a
    run that starts in it judges the harness, not the switch (584b94d: requests sent before the
    deploy timed out). Every request of the run itself still counts."""
    streak = [0]

    def answer() -> str:
        got = get_url(stack.url(app), "/healthz", timeout=QUIET_SECONDS)
        streak[0] = streak[0] + 1 if got.status == 200 else 0
        return f"{streak[0]} in a row" + ("" if got.status == 200 else f", last: {got.error or got.status}")

    wait_for(answer, what=f"{QUIET} prompt answers in a row from {app} before its load starts", timeout=120,
             interval=0.2, until=lambda _: streak[0] >= QUIET, describe=str)  # fmt: skip


def _settled_pods(stack: Stack, app: str) -> dict[str, list[tuple[str, str, str]]]:
    """The pods once no pod of the app is terminating (a deploy's old pods are gone)."""
    selector = f"app.kubernetes.io/name={app}"

    def terminating() -> list[str]:
        pods = json.loads(stack.kubectl("-n", stack.namespace, "get", "pods", "-l", selector, "-o", "json").stdout)
        return [p["metadata"]["name"] for p in pods["items"] if p["metadata"].get("deletionTimestamp")]

    wait_for(terminating, what=f"no terminating pod of {app}", timeout=120, interval=1.0, until=lambda t: not t,
             describe=lambda t: "terminating: " + ", ".join(t))  # fmt: skip
    return _pods_by_colour(stack, app)


def resource_versions(stack: Stack) -> dict[str, str]:
    """kind/name -> resourceVersion of every object in the app namespace (events aside: they are
    records of what happened, not objects a switch may change)."""
    kinds = stack.kubectl("api-resources", "--verbs=list,get", "--namespaced", "-o", "name").stdout.split()
    kinds = [k for k in kinds if k.split(".", 1)[0] != "events"]
    items = json.loads(stack.kubectl("-n", stack.namespace, "get", ",".join(kinds), "-o", "json",
                                     timeout=180).stdout)["items"]  # fmt: skip
    return {f"{i['kind']}/{i['metadata']['name']}": i["metadata"]["resourceVersion"] for i in items}


def _refused_switch(
    stack: Stack, app: str, env: str, out: Path, name: str
) -> tuple[str, dict[str, str], dict[str, str]]:
    """A switch that must be refused: (its output, resourceVersions before, after)."""
    console = Console(record=True, width=220)
    orch = connect(app, env, namespace=stack.namespace, kubeconfig=stack.kubeconfig, console=console)
    _settled_pods(stack, app)
    before = resource_versions(stack)
    with pytest.raises(Refused) as refused:
        orch.switch()
    after = resource_versions(stack)
    text = console.export_text() + f"\nplatform-verify: error: {refused.value}\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.txt").write_text(text)
    (out / f"{name}-resource-versions.json").write_text(json.dumps({"before": before, "after": after}, indent=1))
    print(f"\n{name}:\n{text}\nresourceVersions before == after: {before == after} ({len(before)} objects)")
    return text, before, after


@pytest.mark.parametrize("app", APPS[:1])
@pytest.mark.usefixtures("alone")
def test_switch_with_another_profile_is_refused_and_changes_nothing(stack: Stack, app: str, artifacts: Path) -> None:
    """The issue's scenario: deployed with the e2e profile, `switch --env test`."""
    text, before, after = _refused_switch(stack, app, "test", artifacts / "bluegreen", f"{app}-switch-env-test")
    assert "deployed with the e2e profile" in text and "not test" in text
    assert "spec.type" in text and "NodePort" in text and "ClusterIP" in text, "the plan does not list the differences"
    changed = {k: (before.get(k), after.get(k)) for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert not changed, f"a refused switch changed objects: {changed}"


@pytest.mark.usefixtures("alone")
@pytest.mark.parametrize("app", APPS[:1])
def test_environment_edited_after_deploy_makes_the_switch_refuse(
    stack: Stack,
    app: str,
    artifacts: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The environment files as deployed allow a flip (dry run); edited, the switch is refused."""
    environments = tmp_path / "environments"
    shutil.copytree(paths.ENVIRONMENTS, environments)  # chart's own is patched below
    monkeypatch.setattr(chart, "ENVIRONMENTS", environments)
    dry = connect(app, PROFILE, namespace=stack.namespace, kubeconfig=stack.kubeconfig, dry_run=True,
                  console=Console(record=True, width=220))  # fmt: skip
    outcome = dry.switch()
    assert outcome.plan is not None and outcome.plan.allowed, outcome.plan and outcome.plan.text()
    (artifacts / "bluegreen").mkdir(parents=True, exist_ok=True)
    (artifacts / "bluegreen" / f"{app}-switch-allowed-dry-run.txt").write_text(outcome.plan.text())
    print(f"\nallowed (dry run):\n{outcome.plan.text()}")
    shared = environments / PROFILE / "values.yaml"
    edited = shared.read_text().replace("logLevel: info", "logLevel: debug")
    assert edited != shared.read_text()
    shared.write_text(edited)
    text, before, after = _refused_switch(stack, app, PROFILE, artifacts / "bluegreen", f"{app}-switch-env-edited")
    assert "env[LOG_LEVEL].value" in text and "debug" in text
    assert "deployed with" not in text  # same profile: refused for the edited file alone
    changed = {k: (before.get(k), after.get(k)) for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert not changed, f"a refused switch changed objects: {changed}"


@pytest.mark.usefixtures("alone")
@pytest.mark.parametrize("app", APPS[:1])
def test_gitops_plan_compares_with_the_live_objects(
    stack: Stack,
    app: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The GitOps source's plan against real live objects (server defaults, uids, managed fields):
    values in git that match what runs allow the flip alone; an edited file is refused."""
    from verification.bluegreen.gitops import GitOpsSource, values_file, write_colours
    from verification.bluegreen.kube import Kube

    environments = tmp_path / "environments"
    shutil.copytree(paths.ENVIRONMENTS, environments)  # chart's own is patched below
    monkeypatch.setattr(chart, "ENVIRONMENTS", environments)
    target = stack.target(app)
    # The values file as ArgoCD would have synced it: the release's colours written into git.
    write_colours(values_file(target), release.colour_values(target, release.current_values(target)))
    source = GitOpsSource("true", Kube(stack.namespace, kubeconfig=stack.kubeconfig).live_objects)
    active = source.read(target)["activeColor"]
    plan = source.plan_flip(target, "switch", chart.other(active))
    print(f"\nGitOps plan against the live objects:\n{plan.text()}")
    assert plan.allowed, plan.text()
    assert {c.path for c in plan.changes} == {"spec.selector.color"}
    shared = environments / PROFILE / "values.yaml"
    shared.write_text(shared.read_text().replace("logLevel: info", "logLevel: warn"))
    refused = source.plan_flip(target, "switch", chart.other(active))
    assert {c.path for c in refused.refused} == {"spec.template.spec.containers[app].env[LOG_LEVEL].value"}


JOB_ORDER = 2  # after the NetworkPolicy probe matrix, before the alert faults (verification.e2e.concurrent)


def _job(item: pytest.Item, stack: Stack, artifacts: Path) -> tuple[str, str, Callable[[], Any]] | None:
    """The job behind a load test of this module: (its name, the app whose release it holds, what
    it runs); None: the test runs in its own body. Both keep-alive modes await one job."""
    name = getattr(item, "originalname", item.name)
    callspec = getattr(item, "callspec", None)  # a parametrized Function has one
    params: dict[str, Any] = callspec.params if callspec else {}
    app = params.get("app", "")
    out = artifacts / "bluegreen"
    if name == "test_switches_under_load_lose_no_request":
        count = item.config.getoption("--flips")
        return f"{item.path.name}::switches[{app}]", app, functools.partial(_run, stack, app, out / f"{app}-switches",
                                                                            flip_count=count)  # fmt: skip
    runs: dict[str, tuple[Callable[..., Any], str]] = {
        "test_active_pod_deleted_during_switch_loses_no_request": (functools.partial(_run, delete_pods=True),
                                                                   "pod-deleted"),
        "test_active_pod_deleted_with_requests_in_flight_loses_none": (_slow_requests_pod_deleted, "slow-pod-deleted"),
        "test_broken_platform_app_without_drain_loses_requests": (_without_drain, "broken-no-drain"),
    }  # fmt: skip
    if name in runs:
        run, folder = runs[name]
        return item.nodeid, app, functools.partial(run, stack, app, out / f"{app}-{folder}")
    return None


def jobs(lanes: Lanes, stack: Stack, config: pytest.Config, artifacts: Path, items: list[pytest.Item]) -> list[Spec]:
    """Every selected load test's job, one lane per app (see the module's docstring)."""
    found: dict[str, Spec] = {}
    for item in items:
        if job := _job(item, stack, artifacts):
            name, app, run = job
            # The cores shared even by the no-drain run, which must lose requests anyway: beside the
            # generated NetworkPolicy cases it took 72 s instead of 28 and slowed them by 47 s (d3a7ea7).
            found.setdefault(name, Spec(name, run, (app_key(app),), (APP_OBJECTS, PLATFORM_TRAFFIC, CPU)))
    return list(found.values())


def _verdict(lanes: Lanes, request: pytest.FixtureRequest) -> list[str]:
    """The problems of this test's job; prints its report."""
    name, _app, _run = _job(request.node, request.getfixturevalue("stack"), Path()) or ("", "", None)
    result = lanes.result(name, JOB_TIMEOUT)
    if isinstance(result, dict):  # a series of flips: one verdict per keep-alive mode (a deletion run: keep-alive)
        result = result[request.node.callspec.params.get("keepalive", True)]
    problems, report = result
    print("\n" + report)
    return list(problems)


@pytest.mark.parametrize("keepalive", [True, False], ids=["keepalive", "no-keepalive"])
@pytest.mark.parametrize("app", APPS)
def test_switches_under_load_lose_no_request(
    lanes: Lanes, app: str, keepalive: bool, request: pytest.FixtureRequest
) -> None:
    problems = _verdict(lanes, request)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("app", APPS)
def test_active_pod_deleted_during_switch_loses_no_request(
    lanes: Lanes, app: str, request: pytest.FixtureRequest
) -> None:
    problems = _verdict(lanes, request)
    assert not problems, "\n".join(problems)


# Slow answers keep requests in flight when a pod stops, so a pod that is not given time to
# drain cuts them: without that, a stop races only kube-proxy's endpoint update, which on one node
# is quick enough that a run lost 0-9 requests of 2400 (not a signal a test can rely on). With
# 3 s answers and a 1 s grace period, whatever a pod accepted in its last 2 s is cut.
SLOW_MS = 3000
# Both shutdown guards off and no time to finish: no preStop sleep, no drain, killed 1 s after SIGTERM.
NO_DRAIN = {"runtime": {"preStopSleepSeconds": 0, "drainDelaySeconds": 0, "terminationGracePeriodSeconds": 1}}


def _install(stack: Stack, app: str, extra_values: tuple[str, ...] = ()) -> None:
    """Re-apply the app's release (colours as they are) with extra values files; wait for both colours."""
    target = release.Target(app, PROFILE, stack.namespace, None, stack.kubeconfig, extra_values)
    release.apply(target, release.colour_values(target, release.current_values(target)), timeout=300)
    for color in ("blue", "green"):
        stack.kubectl("-n", stack.namespace, "rollout", "status", f"deployment/{app}-{color}", "--timeout=180s",
                      timeout=200)  # fmt: skip


def _slow_requests_pod_deleted(stack: Stack, app: str, out: Path) -> tuple[list[str], str]:
    """Every answer slowed by SLOW_MS, no keep-alive; one active pod deleted: the problems found, the report."""
    orch = connect(app, PROFILE, namespace=stack.namespace, kubeconfig=stack.kubeconfig)
    active, _version = _active_version(orch)
    cfg = LoadConfig(stack.url(app) + "/", rate=RATE, duration=900, concurrency=192, keepalive=False)
    _await_quiet(stack, app)
    stack.set_fault(app, {"latency_ms": SLOW_MS})
    try:
        with background(cfg, out / app, stop_on_exit=True) as load:
            load.dwell(time.time_ns() + 3_000_000_000, "3 s of slow requests before the deletion")
            victim = _pods(stack, app, active)[0]
            load.mark(f"delete {victim}")
            _delete(stack, victim)
            stack.kubectl("-n", stack.namespace, "wait", "--for=delete", f"pod/{victim}", "--timeout=60s", timeout=80)
            stack.kubectl("-n", stack.namespace, "rollout", "status", f"deployment/{app}-{active}", "--timeout=120s",
                          timeout=140)  # fmt: skip
            load.dwell(time.time_ns() + 2_000_000_000, "2 s of load after the pod was gone")
            load.mark("end")
    finally:
        stack.set_fault(app, None)
    result = load.result
    assert result is not None
    summary = result.summary()
    report = (f"{app} slow ({SLOW_MS} ms), {active} pod {victim} deleted: {summary.sent} requests, "
              f"{summary.failed} failed, latency {summary.latency_ms}; files: {result.files.get('plot')}")  # fmt: skip
    if not summary.failed:
        return [], report
    causes = shutdown_settings(stack, app)
    return [f"{app}: {summary.failed} failed requests when pod {victim} stopped ({_failures(result.records)})"
            + ("; cause: " + "; ".join(causes) if causes else "")], report  # fmt: skip


@pytest.mark.parametrize("app", APPS)
def test_active_pod_deleted_with_requests_in_flight_loses_none(
    lanes: Lanes, app: str, request: pytest.FixtureRequest
) -> None:
    problems = _verdict(lanes, request)
    assert not problems, "\n".join(problems)


def _without_drain(stack: Stack, app: str, out: Path) -> tuple[list[str], str]:
    """The slow run with the release's pods given no preStop delay, no drain and 1 s between
    SIGTERM and SIGKILL; the release is restored afterwards."""
    out.mkdir(parents=True, exist_ok=True)
    broken = out / "values-no-drain.yaml"
    broken.write_text(yaml.safe_dump(NO_DRAIN))
    try:
        _install(stack, app, (str(broken),))
        return _slow_requests_pod_deleted(stack, app, out)
    finally:
        _install(stack, app)


@pytest.mark.parametrize("app", APPS[:1])
def test_broken_platform_app_without_drain_loses_requests(
    lanes: Lanes, app: str, request: pytest.FixtureRequest
) -> None:
    """Deliberately broken platform: the run that is green above must go red, naming the cause.

    The same run as the test above, with the release's pods given no preStop delay, no drain and
    1 s between SIGTERM and SIGKILL; the release is restored afterwards.
    """
    problems = _verdict(lanes, request)
    print("\nverdict of the broken run:\n" + "\n".join(problems))
    failed = [p for p in problems if "failed requests" in p]
    assert failed, f"{app} without preStop delay and drain lost no request: the load run cannot see a broken drain"
    assert "cause:" in failed[0] and "preStop" in failed[0] and "DRAIN_DELAY_SECONDS=0" in failed[0], (
        f"the red verdict does not point at the shutdown settings: {failed[0]}"
    )
