"""Live on loopback: real apps, a real Prometheus and Alertmanager running the platform's rules and
routes, a real webhook receiver. Every alert-intent fault reaches exactly its receivers with
the expected labels, and resolves once the fault is removed. Latencies are reported against
their theoretical bounds (artifacts/alerts-loopback.txt and the terminal summary)."""

import json
import secrets
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_api_client import PrometheusConnect

from verification.alerting import scenario
from verification.alerting.loopback import App, Stack, profile
from verification.alerting.webhook import WebhookReceiver
from verification.load.localapp import problem as runnable
from verification.models.monitoring import alert_intent, alerts, metric_catalog
from verification.paths import MANIFESTS
from verification.wait import wait_for
from verification.yamlio import load_manifests

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]
MIN_PATHS = 3
# Tolerance over the theoretical bound: process scheduling on a loaded 2-core machine, rule
# group start offsets and HTTP hops are not in the formula (measured: 1-3s over the bound).
SLACK = 20.0


def _report(pytestconfig: pytest.Config, artifacts: Path, text: str) -> None:
    (artifacts / "alerts-loopback.txt").write_text(text + "\n")
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    if reporter:
        reporter.write_line("")
        for line in text.splitlines():
            reporter.write_line(line)


@pytest.fixture
def workdir(tmp_path: Path, artifacts: Path) -> Iterator[Path]:
    """A private folder (parallel runs must not share TSDBs or credentials); its configurations
    and process logs are copied to the artifacts folder afterwards to explain a failure."""
    yield tmp_path
    evidence = artifacts / "alerts-loopback"
    evidence.mkdir(exist_ok=True)
    for file in tmp_path.iterdir():
        if file.is_file() and file.name != "receiver-token":
            shutil.copy(file, evidence / file.name)


def test_faults_reach_their_receivers_and_resolve(workdir: Path, pytestconfig: pytest.Config, artifacts: Path) -> None:
    intent = alert_intent.load()
    cases = [c for c in intent.faults if runnable(c.app) is None]
    skipped = [f"{c.name}: {runnable(c.app)}" for c in intent.faults if runnable(c.app) is not None]
    if len(cases) < MIN_PATHS:
        pytest.skip(f"fewer than {MIN_PATHS} runnable fault cases: " + "; ".join(skipped))
    timing = profile(pytestconfig.getoption("--e2e-profile"))
    objects = load_manifests([MANIFESTS])
    rules = alerts.rule_set(objects)
    webhook = WebhookReceiver(token=secrets.token_hex(16))
    apps = {(c.app, c.env): App(c.app, c.env, workdir) for c in cases}
    stack = Stack(objects, list(apps.values()), timing, workdir, webhook.url, webhook.token)
    try:
        with ThreadPoolExecutor(max_workers=len(apps)) as pool:
            list(pool.map(App.start, apps.values()))
        started = time.time()
        stack.start()
        prometheus = PrometheusConnect(url=stack.prometheus_url, disable_ssl=True)
        wait_for(
            lambda: len(prometheus.custom_query("up == 1")),
            what=f"{len(apps)} app targets up",
            until=lambda n: n == len(apps),
            timeout=60,
        )
        with ThreadPoolExecutor(max_workers=len(cases)) as pool:
            results = list(
                pool.map(
                    lambda c: scenario.run_case(
                        c, scenario.Loopback(apps[(c.app, c.env)], webhook, prometheus), rules, timing
                    ),
                    cases,
                )
            )
        heartbeat = wait_for(
            lambda: webhook.first("heartbeat", intent.heartbeat.labels, "firing"),
            what="Watchdog at the heartbeat receiver",
            timeout=10,
        )
        exposed = {
            app.name: {
                r["metric"]["__name__"] for r in prometheus.custom_query(f'group by (__name__) ({{app="{app.name}"}})')
            }
            for app in apps.values()
        }
    finally:
        stack.stop()
        for app in apps.values():
            app.stop()
        webhook.close()

    observations = [o for r in results for o in r.observations]
    text = "\n".join(
        [
            f"Live alert paths on loopback (profile {timing.name}: scrape {timing.scrape_interval}, "
            f"evaluation {timing.evaluation_interval}, group_wait {timing.alertmanager['group_wait']}); "
            "bound = 2 x scrape + evaluation + for + group_wait",
            scenario.table(observations),
            f"Watchdog -> heartbeat {heartbeat.received - started:.1f}s after Prometheus started",
            *(f"skipped: {s}" for s in skipped),
        ]
    )
    _report(pytestconfig, artifacts, text)
    (artifacts / "alerts-loopback.json").write_text(json.dumps([o.__dict__ for o in observations], indent=2))

    problems = [p for r in results for p in r.problems]
    problems += [
        f"{o.case}: {o.alert} at {o.receiver} took {o.fired_after:.1f}s, bound {o.bound:.0f}s (+{SLACK:.0f}s slack)"
        for o in observations
        if o.fired_after is not None and o.fired_after > o.bound + SLACK
    ]
    for app, names in exposed.items():
        missing = metric_catalog.APP - names
        if missing:
            problems.append(f"{app} does not expose the contract's metrics {sorted(missing)} (metric catalog)")
    assert webhook.rejected == 0, f"{webhook.rejected} notification(s) without the receiver credential"
    assert len({(o.case, o.alert) for o in observations if o.resolved_after is not None}) >= MIN_PATHS, text
    assert not problems, "\n".join(problems) + "\n\n" + text
