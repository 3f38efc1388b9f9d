"""`platform-verify mutants` / `python -m verification.mutants`: run the catalog, print the figures."""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from verification.errors import UserError, VerificationError
from verification.mutants import catalog, report
from verification.mutants.runner import SUITE, Interrupted, Result, make_workspace, run_all, run_suite, stop_on_signals
from verification.paths import REPO_ROOT, artifacts_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--area", action="append", choices=catalog.AREAS, help="only this area (repeatable)")
    parser.add_argument("--id", action="append", dest="ids", metavar="ID", help="only this mutant (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the selected mutants and exit")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="mutants run in parallel, each on its own copy"
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds one conformance run may take")
    parser.add_argument(
        "--skip-baseline", action="store_true", help="do not first check that the unmutated copy is green"
    )
    parser.add_argument("--rev", help="measure the files of this git revision (e.g. HEAD) instead of the working tree")
    parser.add_argument("--report", type=Path, help="JSON report (default: <artifacts>/mutants/report.json)")


def _progress(result: Result, done: int, total: int) -> None:
    how = result.killed_by or result.detail or ""
    print(f"[{done}/{total}] {result.outcome:<10} {result.id} ({result.seconds:.0f} s) {how[:110]}", flush=True)


def main(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise UserError(f"--jobs {args.jobs}: must be at least 1")
    mutants = catalog.select(catalog.load(), areas=args.area, ids=args.ids)
    if not mutants:
        raise UserError("no mutant selected (see --list)")
    if args.list:
        for m in mutants:
            mark = " [equivalent]" if m.equivalent else ""
            print(f"{m.id:<48} {m.file}{mark}\n    {m.description}")
        print(f"{len(mutants)} mutants")
        return 0
    started = time.monotonic()
    jobs = min(args.jobs, len(mutants))
    restore = stop_on_signals()
    try:
        return _run(args, mutants, jobs, started)
    finally:
        restore()


def _run(args: argparse.Namespace, mutants: list[catalog.Mutant], jobs: int, started: float) -> int:
    # An interruption raises out of this block: the copies are removed before the one line is printed.
    with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
        workspaces = [make_workspace(REPO_ROOT, Path(tmp) / f"w{i}", args.rev) for i in range(jobs)]
        if not args.skip_baseline:
            baseline = run_suite(workspaces[0], SUITE, args.timeout)
            if baseline.returncode != 0:
                seen = baseline.failure or baseline.output.strip().splitlines()[-1:]
                raise UserError(
                    f"baseline: conformance fails on the unmutated copy ({seen}); a mutant can only be measured "
                    "against a green suite: fix that first (or --skip-baseline)"
                )
            print(f"baseline: conformance green on the unmutated copy in {baseline.seconds:.0f} s", flush=True)
        results = run_all(mutants, workspaces, timeout=args.timeout, progress=_progress)
    figures = report.summary(results, time.monotonic() - started, jobs)
    print(report.render(results, figures))
    path = args.report or artifacts_dir() / "mutants" / "report.json"
    selection = {"areas": args.area or [], "ids": args.ids or [], "rev": args.rev or "working tree"}
    print(f"report: {report.write_json(results, figures, path, selection)}")
    return 1 if report.failed(results) else 0


def entrypoint(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verification.mutants", description=__doc__)
    add_arguments(parser)
    try:
        return main(parser.parse_args(argv))
    except Interrupted as exc:
        print(f"mutants: {exc.line()}: running suites stopped, temporary copies removed", file=sys.stderr)
        return exc.exit_code
    except VerificationError as exc:
        print(f"mutants: error: {exc.line()}", file=sys.stderr)
        return exc.exit_code
