"""`platform-verify load URL --rate R --duration D`: open-model load with a request log and a plot."""

import argparse
import time
from pathlib import Path

from verification.errors import UserError
from verification.paths import artifacts_dir


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:  # generic for mypy only
    parser = sub.add_parser("load", help="send load at a constant arrival rate; log every request")
    parser.add_argument("url", help="http(s) URL to GET")
    parser.add_argument("--rate", type=float, required=True, help="requests per second (open model)")
    parser.add_argument("--duration", type=float, required=True, help="seconds of sending")
    parser.add_argument("--concurrency", type=int, default=64, help="most requests open at once (default 64)")
    parser.add_argument("--workers", type=int, default=1, help="processes sharing the schedule (default 1)")
    parser.add_argument("--timeout", type=float, default=5.0, help="per-request timeout in seconds (default 5)")
    parser.add_argument(
        "--keepalive", action=argparse.BooleanOptionalAction, default=True, help="reuse connections (default: on)"
    )
    parser.add_argument("--out", type=Path, help="folder for requests.jsonl, summary.json, timeline.png")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from verification.load import LoadConfig, run_load

    try:
        options = ("rate", "duration", "concurrency", "keepalive", "timeout", "workers")  # LoadConfig's own names
        config = LoadConfig(args.url, **{name: getattr(args, name) for name in options})
    except ValueError as exc:
        raise UserError(f"load: {exc}") from None
    out = args.out or artifacts_dir() / f"load-{time.strftime('%Y%m%d-%H%M%S')}"
    result = run_load(config, out)
    summary = result.summary()
    print(summary.format())
    for name, path in result.files.items():
        print(f"{name}: {path}")
    return 1 if summary.failed else 0
