"""The two test programs the images carry, run as real processes on loopback (no Docker)."""

import json
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from verification.cluster.stack_images import STACK_IMAGES_DIR
from verification.run import run
from verification.wait import wait_for

pytestmark = pytest.mark.skipif(shutil.which("go") is None, reason="the Go toolchain is needed to build the probes")


def _build(name: str, out: Path) -> Path:
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-buildvcs=false", "GOTOOLCHAIN": "local"}
    run(["go", "build", "-p", "2", "-o", str(out / name), "."], cwd=STACK_IMAGES_DIR / name, env=env, timeout=600)
    return out / name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def binaries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("bin")
    return {name: _build(name, out) for name in ("netpol-probe", "alert-receiver")}


@pytest.fixture(scope="module")
def probe_server(binaries: dict[str, Path]) -> Iterator[int]:
    port = _free_port()
    proc = subprocess.Popen(
        [binaries["netpol-probe"], "serve", "--tcp", str(port), "--udp", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(
            lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() or True,
            what=f"netpol-probe serving on 127.0.0.1:{port}",
            timeout=20,
        )
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _connect(binaries: dict[str, Path], *targets: str) -> tuple[int, list[dict]]:
    proc = run([binaries["netpol-probe"], "connect", "--timeout", "1s", *targets], check=False, timeout=30)
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines()]


def test_probe_connects_over_tcp_and_udp(binaries: dict[str, Path], probe_server: int) -> None:
    code, results = _connect(binaries, f"127.0.0.1:{probe_server}", f"udp://127.0.0.1:{probe_server}")
    assert code == 0, results
    assert [r["protocol"] for r in results] == ["tcp", "udp"]
    assert all(r["result"] == "connected" and r["peer"] == socket.gethostname() for r in results), results


def test_probe_reports_refused_per_target(binaries: dict[str, Path], probe_server: int) -> None:
    closed = _free_port()
    code, results = _connect(binaries, f"127.0.0.1:{probe_server}", f"tcp://127.0.0.1:{closed}")
    assert code == 1
    assert [r["result"] for r in results] == ["connected", "refused"], results


def test_probe_counts_a_tcp_handshake_with_a_silent_server(binaries: dict[str, Path]) -> None:
    # The apps send nothing first: the handshake alone shows the policy allowed the connection.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        code, results = _connect(binaries, f"127.0.0.1:{server.getsockname()[1]}")
    assert code == 0, results
    assert results[0]["result"] == "connected"
    assert results[0].get("peer", "") == ""
    assert results[0]["elapsed_ms"] < 1000


@pytest.mark.parametrize("args", [[], ["ftp://127.0.0.1:1"], ["no-port"]])
def test_probe_bad_usage_exits_2(binaries: dict[str, Path], args: list[str]) -> None:
    proc = run([binaries["netpol-probe"], "connect", *args], check=False, timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.strip()


@pytest.fixture(scope="module")
def receiver(binaries: dict[str, Path]) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [binaries["alert-receiver"], f"--listen=127.0.0.1:{port}", "--max-notifications=3"],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(f"{url}/healthz").status_code, what="alert-receiver", timeout=20, until=(200).__eq__)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _notification(receiver: str, alertname: str) -> dict:
    alert = {"status": "firing", "labels": {"alertname": alertname}}
    return {"receiver": receiver, "status": "firing", "alerts": [alert]}


def test_receiver_records_filters_and_clears(receiver: str) -> None:
    assert httpx.delete(f"{receiver}/notifications").status_code == 204
    assert httpx.post(f"{receiver}/hook/critical", json=_notification("critical", "AppDown")).status_code == 200
    assert httpx.post(f"{receiver}/", json=_notification("default", "Other")).status_code == 200
    everything = httpx.get(f"{receiver}/notifications").json()
    assert [(n["hook"], n["receiver"]) for n in everything] == [("critical", "critical"), ("default", "default")]
    only = httpx.get(f"{receiver}/notifications", params={"alertname": "AppDown"}).json()
    assert [n["alerts"][0]["labels"]["alertname"] for n in only] == ["AppDown"]
    assert httpx.get(f"{receiver}/notifications", params={"hook": "nope"}).json() == []
    assert httpx.delete(f"{receiver}/notifications").status_code == 204
    assert httpx.get(f"{receiver}/notifications").json() == []


def test_receiver_keeps_only_the_newest(receiver: str) -> None:
    httpx.delete(f"{receiver}/notifications")
    for i in range(5):
        httpx.post(f"{receiver}/hook/h", json=_notification("r", f"A{i}"))
    kept = httpx.get(f"{receiver}/notifications").json()
    assert [n["alerts"][0]["labels"]["alertname"] for n in kept] == ["A2", "A3", "A4"]


def test_receiver_rejects_non_json(receiver: str) -> None:
    response = httpx.post(f"{receiver}/hook/x", content=b"not json")
    assert response.status_code == 400
    assert "not JSON" in response.text
