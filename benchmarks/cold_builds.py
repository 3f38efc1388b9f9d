"""Where a cold build's time went: every Go build (wall time, peak RSS) and every build step.

Reads the progress output of `platform-verify tools install` / `cluster up` (the `==>`/`<==` step
lines and gobuild's `<name>: <s>s, peak RSS <n> MiB` lines) and, with --cache, the build records
gobuild leaves in <cache>/gobuild/*/build.json. Older logs wrote the peak RSS "of one compile/link
so far" (the largest of any build since the process started): shown as "<=N".

Tools installed by `go install` before gobuild built them wrote no step line: --tools-start HH:MM:SS
(when `tools install` began) times each from the modification times of the installed binaries, in
the order the install line names them (an approximation: the end of one is the start of the next).

    python benchmarks/cold_builds.py LOG [--cache DIR] [--tools-start 03:51:10]
"""

import argparse
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_DONE = re.compile(r"^<== (\d+(?:\.\d+)?)s: (.*)$")
_GO = re.compile(r"^go build (\S+)@(\S+) \((.*)\)$")
_RSS = re.compile(r"^    (\S+): (\d+(?:\.\d+)?)s, peak RSS (of one compile/link so far )?(\d+) MiB$")
_INSTALL = re.compile(r"platform-verify tools install (.*)$")


def go_builds(lines: list[str]) -> list[dict[str, object]]:
    """One row per `go build` step: module, version, binaries, seconds, peak RSS (None: unknown)."""
    rows: list[dict[str, object]] = []
    for line in lines:
        if (done := _DONE.match(line)) and (go := _GO.match(done.group(2))):
            rows.append({"module": go.group(1), "version": go.group(2), "binaries": go.group(3)})
            rows[-1].update(seconds=float(done.group(1)), rss=None)
        elif (rss := _RSS.match(line)) and rows and rows[-1]["rss"] is None:
            rows[-1]["rss"] = f"<={rss.group(4)}" if rss.group(3) else rss.group(4)
    return rows


def steps(lines: list[str]) -> list[tuple[int, str, float | None]]:
    """(depth, step, seconds) for every step, in the order they started (None: not finished). Steps
    are matched by their text, so builds running side by side may interleave their lines."""
    running, found = dict[str, int](), list[tuple[int, str, float | None]]()
    for line in lines:
        if line.startswith("==> "):
            running[line[4:]] = len(found)
            found.append((len(running) - 1, line[4:], None))
        elif (done := _DONE.match(line)) and (index := running.pop(done.group(2), None)) is not None:
            found[index] = (found[index][0], done.group(2), float(done.group(1)))
    return found


def tool_times(lines: list[str], tools_dir: Path, start: datetime) -> list[tuple[str, float]]:
    """(tool, seconds) from the installed binaries' modification times (see the module docstring)."""
    names = next((m.group(1).split() for line in lines if (m := _INSTALL.search(line))), [])
    found, previous = [], start.timestamp()
    for name in names:
        binaries = sorted(tools_dir.glob(f"{name}-*/{name}"))
        if not binaries:
            continue
        end = binaries[0].lstat().st_mtime
        found.append((name, max(0.0, end - previous)))
        previous = max(previous, end)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path, help="progress output of tools install / cluster up")
    parser.add_argument("--cache", type=Path, help="the cache root (PLATFORM_VERIFY_CACHE) for build.json records")
    parser.add_argument("--tools-start", help="HH:MM:SS (UTC, the log's day) when `tools install` began")
    args = parser.parse_args()
    lines = args.log.read_text().splitlines()
    rows = go_builds(lines)
    print(f"Go builds in {args.log} (wall time under the machine's load at the time):")
    print(f"  {'module@version':<58} {'binaries':<44} {'seconds':>8} {'peak RSS MiB':>13}")
    for row in rows:
        name = f"{row['module']}@{row['version']}"
        print(f"  {name:<58} {str(row['binaries'])[:44]:<44} {row['seconds']:8.1f} {row['rss'] or '?':>13}")
    print(f"  {'total':<103} {sum(float(str(r['seconds'])) for r in rows):8.1f}")
    if args.cache:
        print(f"build records in {args.cache}/gobuild:")
        for record in sorted((args.cache / "gobuild").glob("*/build.json")):
            data = json.loads(record.read_text())
            rss = data.get("peak_rss_mib") or f"<={data.get('peak_rss_mib_any_child_so_far', '?')}"
            print(f"  {record.parent.name:<58} {data['seconds']:8.1f} s {rss:>8} MiB")
    if args.tools_start and args.cache:
        day = datetime.fromtimestamp(args.log.stat().st_mtime, UTC).date().isoformat()
        start = datetime.fromisoformat(f"{day}T{args.tools_start}+00:00")
        print(f"tools install from {args.tools_start} UTC (binary modification times; approximate):")
        timed = tool_times(lines, args.cache / "tools", start)
        for name, seconds in timed:
            print(f"  {name:<58} {seconds:8.1f} s")
        print(f"  {'total':<58} {sum(s for _, s in timed):8.1f} s")
    print("steps (nested by depth; a parent includes its children):")
    for depth, what, took in steps(lines):
        if depth <= 1:
            print(
                f"  {'  ' * depth}{what[:96]:<{100 - 2 * depth}} "
                + (f"{took:8.1f} s" if took is not None else "running")
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
