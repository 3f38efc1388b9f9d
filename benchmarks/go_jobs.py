"""Do Go builds side by side beat one after the other here? Wall and CPU time of gobuild builds.

Run each mode into its own empty cache so neither finds the other's work (the module cache may
stay warm: this measures compiling and linking), on a machine that is otherwise idle:

    PLATFORM_VERIFY_CACHE=/tmp/seq GOCACHE=/tmp/seq/go-build python benchmarks/go_jobs.py 1 coredns kube-router
    PLATFORM_VERIFY_CACHE=/tmp/par GOCACHE=/tmp/par/go-build python benchmarks/go_jobs.py 2 coredns kube-router

A cpu/wall ratio near the core count in the sequential run leaves nothing for parallel builds to win.
"""

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from verification.cluster import gobuild


def main() -> int:
    jobs, names = int(sys.argv[1]), sys.argv[2:]
    gobuild.JOBS = jobs
    started = time.monotonic()
    gobuild.build_all(only=names)
    wall = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    print(f"jobs {jobs} {' '.join(names)}: wall {wall:.1f} s, cpu {cpu:.1f} s, cpu/wall {cpu / wall:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
