"""Load generator accuracy, against a local sample-app on loopback, in one run (prints figures).

1. achieved/target rate at 500 req/s (keep-alive);
2. the generator's ceiling (an open-model run far above what it can send) as a ratio to `wrk`'s
   throughput on the same endpoint, measured back to back in the same run;
3. p50 latency it reports for an injected 50 ms delay (fault control), against the truth: 50 ms
   plus the endpoint's own p50 without the fault, measured by the generator in the same run.

Every figure is a ratio or a difference against a baseline from the same run: the machine is shared.
Usage: python benchmarks/load_generator.py [--duration S] [--app sample-app|sample2-app]
"""

import argparse
import re
import sys
import tempfile
from pathlib import Path

import httpx

from verification.load import LoadConfig, LoadResult, run_load
from verification.load.localapp import start_app
from verification.run import run
from verification.tools import require


def wrk_rate(url: str, duration: float, connections: int) -> float:
    wrk = require("wrk")
    out = run([wrk.path, "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", url], timeout=duration + 60).stdout
    match = re.search(r"Requests/sec:\s*([\d.]+)", out)
    if not match:
        raise RuntimeError(f"wrk printed no rate:\n{out}")
    return float(match.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement (default 5)")
    parser.add_argument("--app", default="sample-app", choices=["sample-app", "sample2-app"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        app = start_app(args.app, Path(tmp), FAULT_INJECTION="enabled", DRAIN_DELAY_SECONDS="0.2")
        try:
            url = f"{app.url}/"
            run_load(LoadConfig(url, rate=100, duration=1))  # warm up both sides

            at500 = run_load(LoadConfig(url, rate=500, duration=args.duration)).summary()
            print(
                f"rate accuracy: {at500.achieved_rate:.1f}/s achieved at 500/s target: "
                f"ratio {at500.rate_ratio:.4f} (start lag p99 {at500.start_lag_ms['p99']:.1f} ms, "
                f"{at500.failed} failed)"
            )

            # Ceiling: schedule a burst far above what it can send (4500 requests due within 1.5 s);
            # the rate at which it gets them all done is its ceiling.
            ceiling = run_load(LoadConfig(url, rate=3000, duration=1.5, concurrency=16, timeout=60))
            gen_rate = len(ceiling.records) / _span_s(ceiling)
            wrk = wrk_rate(url, args.duration, connections=16)
            print(
                f"ceiling: generator {gen_rate:.0f} req/s, wrk {wrk:.0f} req/s (16 connections, same endpoint): "
                f"ratio {gen_rate / wrk:.3f}"
            )

            base = run_load(LoadConfig(url, rate=50, duration=args.duration)).summary()
            httpx.post(f"{app.url}/admin/faults", json={"latency_ms": 50}).raise_for_status()
            try:
                slow = run_load(LoadConfig(url, rate=50, duration=args.duration)).summary()
            finally:
                httpx.delete(f"{app.url}/admin/faults")
            truth = 50.0 + base.latency_ms["p50"]
            error = slow.latency_ms["p50"] - truth
            print(
                f"latency accuracy: p50 {slow.latency_ms['p50']:.2f} ms with 50 ms injected; truth 50 + "
                f"{base.latency_ms['p50']:.2f} ms (p50 without the fault) = {truth:.2f} ms: error {error:+.2f} ms"
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
