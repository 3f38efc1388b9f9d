"""The app runtime contract (platform/docs/conventions.md), against both apps as real processes.

Every test runs once per app; the apps are started on free loopback ports.
"""

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from verification import catalog
from verification.load.localapp import LocalApp, app_env, command, free_port, start_app
from verification.run import run
from verification.wait import wait_for

VERSION = "1.0.0"
NO_STACK = ("Traceback", "    at ", ".py", ".js", "node_modules", "site-packages")


@pytest.fixture(scope="module", params=catalog.current().names())
def app_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("app-logs")


@pytest.fixture(scope="module")
def app(app_name: str, logs_dir: Path) -> Iterator[LocalApp]:
    """The app with fault control enabled."""
    local = start_app(app_name, logs_dir, FAULT_INJECTION="enabled", DRAIN_DELAY_SECONDS="0.5")
    yield local
    assert local.stop() == 0


@pytest.fixture(scope="module")
def app_without_faults(app_name: str, logs_dir: Path) -> Iterator[LocalApp]:
    local = start_app(app_name, logs_dir, APP_COLOR="green", FAULT_INJECTION="disabled", DRAIN_DELAY_SECONDS="0.5")
    yield local
    assert local.stop() == 0


@pytest.fixture
def client(app: LocalApp) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app.url, timeout=10) as http:
        yield http
        http.delete("/admin/faults")  # no test leaves faults behind


def _error_body(response: httpx.Response, status: int, error: str) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status
    assert body["error"] == error
    assert isinstance(body["message"], str)
    assert not any(marker in response.text for marker in NO_STACK), response.text
    return body


# --- the endpoints ---------------------------------------------------------------------------


def test_root_answers_identity(app_name: str, client: httpx.Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.json() == {"app": app_name, "version": VERSION, "color": "blue", "hostname": socket.gethostname()}
    assert response.headers["x-app-version"] == VERSION


def test_health_readiness_and_version(app_name: str, client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert client.get("/version").json() == {"app": app_name, "version": VERSION, "color": "blue"}


def test_colour_comes_from_the_environment(app_without_faults: LocalApp) -> None:
    assert httpx.get(f"{app_without_faults.url}/version").json()["color"] == "green"


def test_unknown_route_is_json_404(client: httpx.Client) -> None:
    _error_body(client.get("/no/such/route"), 404, "not_found")


def test_wrong_method_is_json_405(client: httpx.Client) -> None:
    _error_body(client.put("/"), 405, "method_not_allowed")
    _error_body(client.post("/healthz"), 405, "method_not_allowed")


def test_every_response_carries_x_app_version(app: LocalApp, client: httpx.Client) -> None:
    client.post("/admin/faults", json={"error_ratio": 1.0})
    responses = [
        client.get("/"),  # 500 (injected)
        client.get("/healthz"),
        client.get("/readyz"),
        client.get("/version"),
        client.get("/metrics"),
        client.get("/nope"),  # 404
        client.put("/"),  # 405
        client.post("/admin/faults", content=b"{"),  # 400
        client.head("/version"),
        httpx.get(f"{app.metrics_url}/metrics"),
        httpx.get(f"{app.metrics_url}/"),
    ]
    assert [r.status_code for r in responses] == [500, 200, 200, 200, 200, 404, 405, 400, 200, 200, 404]
    assert all(r.headers.get("x-app-version") == VERSION for r in responses)


# --- metrics ---------------------------------------------------------------------------------


def _families(text: str) -> dict:
    return {family.name: family for family in text_string_to_metric_families(text)}


@pytest.mark.parametrize("port", ["http", "metrics"])
def test_metrics_names_and_labels(app: LocalApp, client: httpx.Client, port: str) -> None:
    client.get("/")
    client.get("/nope")
    base = app.url if port == "http" else app.metrics_url
    response = httpx.get(f"{base}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = _families(response.text)

    requests = families["http_requests"]  # the parser strips _total from counters
    assert requests.type == "counter"
    samples = [s for s in requests.samples if s.name == "http_requests_total"]
    assert samples and all(set(s.labels) == {"method", "route", "status"} for s in samples)
    by_labels = {(s.labels["method"], s.labels["route"], s.labels["status"]): s.value for s in samples}
    assert by_labels[("GET", "/", "200")] >= 1
    assert by_labels[("GET", "unmatched", "404")] >= 1

    duration = families["http_request_duration_seconds"]
    assert duration.type == "histogram"
    buckets = [s for s in duration.samples if s.name.endswith("_bucket")]
    expected_buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, float("inf")}
    assert {float(s.labels["le"]) for s in buckets} == expected_buckets  # the same in both apps
    assert all(set(s.labels) - {"le"} == {"method", "route", "status"} for s in duration.samples)

    info = families["app_info"]
    assert [(s.labels, s.value) for s in info.samples] == [({"version": VERSION, "color": "blue"}, 1.0)]


def test_metrics_port_serves_only_metrics(app: LocalApp) -> None:
    for path in ("/", "/healthz", "/admin/faults"):
        _error_body(httpx.get(f"{app.metrics_url}{path}"), 404, "not_found")


def test_requests_are_counted_by_route_and_status(app: LocalApp, client: httpx.Client) -> None:
    def count(status: str) -> float:
        samples = _families(httpx.get(f"{app.metrics_url}/metrics").text)["http_requests"].samples
        return sum(s.value for s in samples if s.labels.get("route") == "/version" and s.labels.get("status") == status)

    before = count("200")
    for _ in range(3):
        client.get("/version")
    assert count("200") == before + 3


# --- fault control ---------------------------------------------------------------------------


def test_faults_start_cleared_and_can_be_set_and_cleared(client: httpx.Client) -> None:
    assert client.get("/admin/faults").json() == {"error_ratio": 0, "latency_ms": 0}
    assert client.post("/admin/faults", json={"error_ratio": 0.5, "latency_ms": 7}).json() == {
        "error_ratio": 0.5,
        "latency_ms": 7,
    }
    assert client.get("/admin/faults").json() == {"error_ratio": 0.5, "latency_ms": 7}
    assert client.delete("/admin/faults").json() == {"error_ratio": 0, "latency_ms": 0}
    assert client.get("/admin/faults").json() == {"error_ratio": 0, "latency_ms": 0}


def test_error_ratio_one_fails_every_request_with_json_500(app: LocalApp, client: httpx.Client) -> None:
    client.post("/admin/faults", json={"error_ratio": 1})
    for _ in range(3):
        _error_body(client.get("/"), 500, "internal_error")
    assert client.get("/healthz").status_code == 200  # probes are never faulted
    client.delete("/admin/faults")
    assert client.get("/").status_code == 200
    # The failure is logged as JSON (central error handling), never sent to the client.
    assert any(line.get("message") == "injected fault" for line in app.logs())


def test_error_ratio_half_fails_about_half(client: httpx.Client) -> None:
    client.post("/admin/faults", json={"error_ratio": 0.5})
    statuses = [client.get("/").status_code for _ in range(200)]
    assert set(statuses) == {200, 500}
    assert 50 <= statuses.count(500) <= 150  # binomial(200, 0.5): outside this is < 1e-12


def test_latency_fault_delays_root(client: httpx.Client) -> None:
    client.post("/admin/faults", json={"latency_ms": 300})
    start = time.perf_counter()
    assert client.get("/").status_code == 200
    assert time.perf_counter() - start >= 0.3
    start = time.perf_counter()
    client.get("/healthz")
    assert time.perf_counter() - start < 0.3


@pytest.mark.parametrize(
    "body",
    [
        b'{"error_ratio": 1.5}',
        b'{"error_ratio": -0.1}',
        b'{"error_ratio": "0.5"}',
        b'{"latency_ms": -1}',
        b'{"latency_ms": 1.5}',
        b'{"latency_ms": "50"}',
        b'{"unknown": 1}',
        b"[1, 2]",
        b"{not json",
        b"",
    ],
)
def test_invalid_faults_are_rejected_with_400(client: httpx.Client, body: bytes) -> None:
    client.post("/admin/faults", json={"latency_ms": 1})
    response = client.post("/admin/faults", content=body, headers={"content-type": "application/json"})
    _error_body(response, 400, "bad_request")
    assert client.get("/admin/faults").json() == {"error_ratio": 0, "latency_ms": 1}  # unchanged


def test_fault_control_is_404_unless_enabled(app_without_faults: LocalApp) -> None:
    with httpx.Client(base_url=app_without_faults.url) as http:
        _error_body(http.get("/admin/faults"), 404, "not_found")
        _error_body(http.post("/admin/faults", json={"error_ratio": 1}), 404, "not_found")
        _error_body(http.delete("/admin/faults"), 404, "not_found")
        assert http.get("/").status_code == 200


# --- configuration ---------------------------------------------------------------------------

BAD_CONFIG = [
    ("HTTP_PORT", "eighty"),
    ("HTTP_PORT", "70000"),
    ("APP_COLOR", "purple"),
    ("APP_VERSION", None),  # missing
    ("FAULT_INJECTION", "yes"),
    ("DRAIN_DELAY_SECONDS", "-1"),
    ("MAX_CONNECTION_AGE_SECONDS", "0"),
    ("LOG_LEVEL", "loud"),
    ("METRICS_PORT", "same-as-http"),
]


@pytest.mark.parametrize(("variable", "value"), BAD_CONFIG, ids=[f"{v}={x}" for v, x in BAD_CONFIG])
def test_bad_configuration_exits_2_with_one_json_line(app_name: str, variable: str, value: str | None) -> None:
    cmd, cwd = command(app_name)
    port = free_port()
    env = app_env(port, port + 1 if port < 65535 else port - 1)
    if value is None:
        del env[variable]
    else:
        env[variable] = env["HTTP_PORT"] if value == "same-as-http" else value
    proc = run(cmd, cwd=cwd, env=env, check=False, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    entry = json.loads(lines[0])
    assert entry["level"] == "error"
    assert entry["variable"] == variable
    assert variable in entry["message"]


# --- logs, shutdown and connection age -------------------------------------------------------


def test_logs_are_json_lines(app: LocalApp, client: httpx.Client) -> None:
    client.get("/")
    entries = app.logs()
    assert entries, "the app logged nothing"
    assert all({"level", "message", "time", "app"} <= set(e) for e in entries)
    assert any(e["message"] == "started" for e in entries)


def test_sigterm_fails_readiness_at_once_keeps_serving_then_exits(app_name: str, logs_dir: Path) -> None:
    local = start_app(app_name, logs_dir, DRAIN_DELAY_SECONDS="1.5")
    try:
        with httpx.Client(base_url=local.url, timeout=5) as http:
            assert http.get("/").headers.get("connection", "").lower() != "close"
            start = time.monotonic()
            local.terminate()
            wait_for(
                lambda: http.get("/readyz").status_code,
                what="readiness to fail",
                timeout=1,
                interval=0.02,
                until=lambda status: status == 503,
            )
            assert time.monotonic() - start < 1.0
            assert http.get("/readyz").json() == {"status": "draining"}
            assert http.get("/healthz").status_code == 200  # liveness holds during the drain
            served = http.get("/")
            assert served.status_code == 200
            assert served.headers["connection"].lower() == "close"
        code = local.wait(timeout=1.5 + 5)
        elapsed = time.monotonic() - start
    finally:
        local.stop()
    assert code == 0
    assert 1.5 <= elapsed < 1.5 + 3, f"exited {elapsed:.2f}s after SIGTERM with a 1.5s drain delay"
    assert any(e["message"] == "shutdown started" for e in local.logs())


def test_keepalive_connection_is_closed_once_older_than_max_age(app_name: str, logs_dir: Path) -> None:
    local = start_app(app_name, logs_dir, MAX_CONNECTION_AGE_SECONDS="1", DRAIN_DELAY_SECONDS="0.5")
    try:
        with httpx.Client(base_url=local.url, limits=httpx.Limits(max_connections=1)) as http:
            first = http.get("/")
            assert first.headers.get("connection", "keep-alive").lower() != "close"
            wait_for(
                lambda: http.get("/").headers.get("connection", "").lower(),
                what="Connection: close after the max age",
                timeout=3,
                interval=0.2,
                until=lambda value: value == "close",
            )
            # The next request opens a new connection, which starts young again.
            assert http.get("/").headers.get("connection", "keep-alive").lower() != "close"
    finally:
        assert local.stop() == 0


def test_request_in_flight_when_the_drain_ends_completes(app_name: str, logs_dir: Path) -> None:
    drain, slow = 2.0, 3.0
    local = start_app(app_name, logs_dir, DRAIN_DELAY_SECONDS=str(drain), FAULT_INJECTION="enabled")
    answers: list[httpx.Response | Exception] = []
    try:
        httpx.post(f"{local.url}/admin/faults", json={"latency_ms": int(slow * 1000)}).raise_for_status()
        local.terminate()
        start = time.monotonic()
        wait_for(
            lambda: httpx.get(f"{local.url}/readyz").status_code,
            what="draining",
            timeout=drain / 2,
            interval=0.02,
            until=lambda status: status == 503,
        )

        def slow_request() -> None:
            try:
                answers.append(httpx.get(f"{local.url}/", timeout=slow + 10))
            except httpx.HTTPError as exc:
                answers.append(exc)

        worker = threading.Thread(target=slow_request)
        worker.start()  # sent during the drain, still running when the drain ends
        code = local.wait(timeout=drain + slow + 8)
        exited = time.monotonic() - start
        worker.join(10)
    finally:
        local.stop()
    assert len(answers) == 1 and isinstance(answers[0], httpx.Response), answers
    assert answers[0].status_code == 200
    assert answers[0].headers["connection"].lower() == "close"
    assert code == 0
    assert exited >= slow, f"exited {exited:.2f}s after SIGTERM, before the {slow}s request could finish"
