"""Load generator accuracy, against a local app on loopback, in one run (prints figures).

1. achieved/target rate at 500 req/s (keep-alive), with 1 and 2 sending processes;
2. the generator's ceiling (an open-model run far above what it can send) as a ratio to `wrk`'s
   throughput on the same endpoint, measured back to back in the same run;
3. p50 latency it reports for an injected 50 ms delay (fault control), against the truth: wrk's
   p50 on the same endpoint with the same fault, and 50 ms + the endpoint's own p50 without it.

Every figure is a ratio or a difference against a baseline from the same run: the machine is shared.
Usage: python benchmarks/load_generator.py [--duration S] [--app APP]  (an app of verification/catalog.py)
"""

import argparse
import re
import sys
import tempfile
from pathlib import Path

import httpx

from verification import catalog
from verification.load import LoadConfig, LoadResult, run_load
from verification.load.localapp import start_app
from verification.run import run
from verification.tools import require


def wrk(url: str, duration: float, connections: int) -> tuple[float, float]:
    """wrk's throughput (req/s) and p50 latency (ms) on `url`."""
    binary = require("wrk").path
    cmd = [binary, "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency", url]
    out = run(cmd, timeout=duration + 60).stdout
    rate = re.search(r"Requests/sec:\s*([\d.]+)", out)
    p50 = re.search(r"^\s*50%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    if not rate or not p50:
        raise RuntimeError(f"wrk printed no rate or latency:\n{out}")
    return float(rate.group(1)), float(p50.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[p50.group(2)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement (default 5)")
    parser.add_argument("--app", default=catalog.current().names()[0], choices=catalog.current().names())
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        app = start_app(args.app, Path(tmp), FAULT_INJECTION="enabled", DRAIN_DELAY_SECONDS="0.2")
        try:
            url = f"{app.url}/"
            run_load(LoadConfig(url, rate=100, duration=1))  # warm up both sides

            for workers in (1, 2):
                at500 = run_load(LoadConfig(url, rate=500, duration=args.duration, workers=workers)).summary()
                print(
                    f"rate accuracy, {workers} process(es): {at500.achieved_rate:.1f}/s achieved at 500/s target: "
                    f"ratio {at500.rate_ratio:.4f} (start lag p99 {at500.start_lag_ms['p99']:.1f} ms, "
                    f"{at500.failed} failed)"
                )

            # Ceiling: schedule a burst far above what it can send (4500 requests due within 1.5 s);
            # the rate at which it gets them all done is its ceiling. wrk right after, same endpoint.
            ceilings = {}
            for workers in (1, 2):
                burst = LoadConfig(url, rate=3000, duration=1.5, concurrency=16, timeout=60, workers=workers)
                result = run_load(burst)
                ceilings[workers] = len(result.records) / _span_s(result)
            wrk_rps, _ = wrk(url, args.duration, connections=16)
            print(
                f"ceiling: generator {ceilings[1]:.0f} req/s (1 process), {ceilings[2]:.0f} req/s (2 processes); "
                f"wrk {wrk_rps:.0f} req/s (1 thread, 16 connections, same endpoint): "
                f"ratio {ceilings[1] / wrk_rps:.3f} and {ceilings[2] / wrk_rps:.3f}"
            )

            # Truth for the delay: the server's real answer time with the fault on, as wrk (C, one
            # connection) sees it, and the nominal 50 ms + the endpoint's p50 without the fault.
            base = run_load(LoadConfig(url, rate=50, duration=args.duration)).summary()
            httpx.post(f"{app.url}/admin/faults", json={"latency_ms": 50}).raise_for_status()
            try:
                slow = run_load(LoadConfig(url, rate=50, duration=args.duration)).summary()
                _, wrk_p50 = wrk(url, args.duration, connections=1)
            finally:
                httpx.delete(f"{app.url}/admin/faults")
            p50 = slow.latency_ms["p50"]
            nominal = 50.0 + base.latency_ms["p50"]
            print(
                f"latency accuracy: p50 {p50:.2f} ms with 50 ms injected; wrk p50 {wrk_p50:.2f} ms: "
                f"error {p50 - wrk_p50:+.2f} ms; nominal 50 + {base.latency_ms['p50']:.2f} ms (p50 without the "
                f"fault) = {nominal:.2f} ms: error {p50 - nominal:+.2f} ms "
                f"(start lag p50 {slow.start_lag_ms['p50']:.2f} ms)"
            )
        finally:
            app.stop()
    return 0


def _span_s(result: LoadResult) -> float:
    first = min(r.started_ns for r in result.records)
    last = max(r.scheduled_ns + r.latency_ns for r in result.records)
    return (last - first) / 1e9


if __name__ == "__main__":
    sys.exit(main())
