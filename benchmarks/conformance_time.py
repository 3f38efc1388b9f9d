"""Conformance wall time, the share spent in external tools, and ratios against baselines.

Baselines measured in the same run: the 20 s budget, and a bare pytest start-up with collection
only (what any pytest run costs on this machine before a single check executes).
"""

import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The checkout this script belongs to, not whichever one the package is installed from: a
# before/after comparison runs it in two worktrees (importlib mode takes the tests from each,
# so the package must come from the same one).
sys.path.insert(0, str(ROOT))

from verification import run as runner  # noqa: E402

BUDGET_SECONDS = 20.0


def _timed_pytest(args: list[str]) -> tuple[float, int]:
    started = time.perf_counter()
    code = int(
        pytest.main([*args, "-q", "-p", "no:cacheprovider", "--no-header", "-o", "console_output_style=classic"])
    )
    return time.perf_counter() - started, code


def main() -> int:
    suite = str(ROOT / "verification" / "conformance")
    collect_seconds, _ = _timed_pytest([suite, "--collect-only"])
    runner.TOOL_SECONDS.clear()
    wall, code = _timed_pytest([suite])
    tools = dict(sorted(runner.TOOL_SECONDS.items(), key=lambda kv: -kv[1]))
    tool_total = sum(tools.values())
    print("\nconformance benchmark")
    print(f"  wall time                 {wall:7.2f} s   (exit {code})")
    print(f"  budget                    {BUDGET_SECONDS:7.2f} s   ratio wall/budget = {wall / BUDGET_SECONDS:.2f}")
    print(f"  pytest collect-only       {collect_seconds:7.2f} s   ratio wall/collect = {wall / collect_seconds:.1f}")
    share = tool_total / wall
    print(f"  external tools            {tool_total:7.2f} s   summed over parallel calls = {share:.0%} of wall")
    for name, seconds in tools.items():
        print(f"    {name:22}  {seconds:7.2f} s   {seconds / wall:.0%}")
    return code


if __name__ == "__main__":
    sys.exit(main())
