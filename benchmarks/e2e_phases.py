"""Wall time of the last `nox -s e2e` run, phase by phase, with each phase's share of the whole.

Reads what the run left in the artifacts folder: e2e-setup-timings.json (nox: install, tools,
CRDs), e2e-pytest-seconds.json, cluster-timings.json (created = the cold path, reused = warm),
stack-timings.json (deploy phases) and junit-e2e.xml (per test module). A test module's time in
JUnit includes the fixtures it set up first, so the cluster and stack times are taken out of the
first module's figure. The long live checks run as jobs beside the tests (verification.e2e.concurrent):
a module that awaits jobs shows the time its tests waited; lanes.json says when each job ran, and
the jobs' summed time over their wall time says how much ran side by side. Also prints the
one-time builds a machine without caches pays on top (the Go builds recorded in
<cache>/gobuild/*/build.json on this machine).

With --before DIR (the artifacts of an earlier run, e.g. before a change, on the same cluster):
one table of both runs, phase by phase, with after/before (a phase only one run has shows "-").

    python benchmarks/e2e_phases.py [--artifacts DIR] [--before DIR]
"""

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from verification.paths import cache_dir  # noqa: E402


def _json(path: Path):
    return json.loads(path.read_text()) if path.is_file() else None


def module_seconds(junit: Path) -> list[tuple[str, float]]:
    """(test module, seconds) in run order, from a pytest JUnit XML."""
    order: dict[str, float] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        module = case.get("classname", "?").rsplit(".", 1)[-1]
        order[module] = order.get(module, 0.0) + float(case.get("time") or 0)
    return list(order.items())


def phases(artifacts: Path) -> list[tuple[str, float]]:
    setup = _json(artifacts / "e2e-setup-timings.json") or {}
    pytest_total = _json(artifacts / "e2e-pytest-seconds.json")
    cluster = _json(artifacts / "cluster-timings.json")
    stack = _json(artifacts / "stack-timings.json")
    junit = artifacts / "junit-e2e.xml"
    if pytest_total is None or not junit.is_file():
        raise SystemExit(f"no e2e run in {artifacts}: run `nox -s e2e` first (it writes these figures)")
    rows = [(f"nox: {name}", float(seconds)) for name, seconds in setup.items()]
    fixtures = 0.0
    if cluster:
        kind = "created (cold)" if cluster.get("created") else "reused (warm)"
        rows.append((f"cluster {cluster.get('provider')} {kind}", float(cluster["seconds"])))
        fixtures += float(cluster["seconds"])
    if stack:
        rows.append(("stack deploy", float(stack["total_seconds"])))
        rows += [(f"  stack: {name}", float(s)) for name, s in stack.get("phases", {}).items()]
        fixtures += float(stack["total_seconds"])
    modules = module_seconds(junit)
    tests_total = 0.0
    for i, (module, seconds) in enumerate(modules):
        own = max(0.0, seconds - fixtures) if i == 0 else seconds
        rows.append((f"tests: {module}", own))
        tests_total += own
    rest = float(pytest_total) - fixtures - tests_total
    rows.append(("pytest: collection, teardown, other", max(0.0, rest)))
    return rows


def cold_builds() -> list[tuple[str, float]]:
    found = []
    for record in sorted((cache_dir() / "gobuild").glob("*/build.json")):
        data = json.loads(record.read_text())
        found.append((f"go build {data['module']}@{data['version']}", float(data["seconds"])))
    return found


def job_summary(jobs: list[dict], longest: int = 8) -> list[str]:
    """The live jobs beside the tests: their summed time over their wall time, and the longest."""
    if not jobs:
        return []
    wall = max(j["end"] for j in jobs) - min(j["start"] for j in jobs)
    busy = sum(j["end"] - j["start"] for j in jobs)
    lines = [f"live jobs beside the tests: {len(jobs)} jobs, {busy:.0f} s of job time in {wall:.0f} s wall "
             f"({busy / wall if wall else 0:.1f} at once on average); the longest:"]  # fmt: skip
    for job in sorted(jobs, key=lambda j: j["start"] - j["end"])[:longest]:
        name = job["job"].rpartition("/")[2][:70]
        lines.append(f"  {name:<70} {job['end'] - job['start']:8.1f} s  from {job['start']:6.1f} to {job['end']:6.1f}")
    return lines


def total_seconds(rows: list[tuple[str, float]]) -> float:
    """The run's wall time: the top-level phases (indented rows are parts of the one above)."""
    return sum(seconds for name, seconds in rows if not name.startswith("  "))


def compare(before: list[tuple[str, float]], after: list[tuple[str, float]]) -> list[str]:
    """Both runs phase by phase (after's order, then phases only the earlier run had), with after/before."""
    old, new = dict(before), dict(after)
    names = [n for n, _ in after] + [n for n, _ in before if n not in new]
    lines = [f"  {'phase':<48} {'before':>9} {'after':>9} {'after/before':>13}"]
    for name in [*names, "total"]:
        b = total_seconds(before) if name == "total" else old.get(name)
        a = total_seconds(after) if name == "total" else new.get(name)
        ratio = f"{a / b:.2f}" if a is not None and b else "-"
        cells = [f"{v:8.1f}s" if v is not None else f"{'-':>9}" for v in (b, a)]
        lines.append(f"  {name:<48} {cells[0]} {cells[1]} {ratio:>13}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", type=Path, default=ROOT / "artifacts")
    parser.add_argument("--before", type=Path, help="artifacts of an earlier run: print both, with after/before")
    args = parser.parse_args()
    try:
        rows = phases(args.artifacts)
        before = phases(args.before) if args.before else None
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 2
    if before is not None:
        print(f"e2e wall time {total_seconds(before) / 60:.1f} min before ({args.before}), "
              f"{total_seconds(rows) / 60:.1f} min after ({args.artifacts})")  # fmt: skip
        print("\n".join(compare(before, rows)))
        return 0
    total = total_seconds(rows)
    print(f"e2e wall time {total / 60:.1f} min ({args.artifacts})")
    for name, seconds in rows:
        share = seconds / total if total else 0.0
        print(f"  {name:<48} {seconds:8.1f} s  {share:6.1%}")
    print("\n".join(job_summary(_json(args.artifacts / "lanes.json") or [])))
    builds = cold_builds()
    if builds:
        cold = sum(s for _, s in builds)
        print(f"one-time Go builds a machine without caches adds (recorded here): {cold / 60:.1f} min, "
              f"{cold / total:.1f}x this run")  # fmt: skip
        for name, seconds in sorted(builds, key=lambda r: -r[1]):
            print(f"  {name:<70} {seconds:8.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
