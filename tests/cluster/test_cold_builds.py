"""benchmarks/cold_builds.py on hand-made progress output: Go builds, their RSS, interleaved steps."""

import importlib.util

from verification.paths import REPO_ROOT

spec = importlib.util.spec_from_file_location("cold_builds", REPO_ROOT / "benchmarks" / "cold_builds.py")
assert spec and spec.loader
cold_builds = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cold_builds)

LOG = """\
==> go build example.com/a@v1.0.0 (a, actl)
==> go build example.com/b@v2.0.0 (b)
<== 12.5s: go build example.com/b@v2.0.0 (b)
    b: 12.5s, peak RSS 1500 MiB
<== 30.0s: go build example.com/a@v1.0.0 (a, actl)
    a: 30.0s, peak RSS of one compile/link so far 2091 MiB
==> build image x
==> go build example.com/c@v3.0.0 (c)
"""


def test_go_builds_with_their_own_or_bounded_peak_rss() -> None:
    rows = cold_builds.go_builds(LOG.splitlines())
    assert [(r["module"], r["version"], r["seconds"], r["rss"]) for r in rows] == [
        ("example.com/b", "v2.0.0", 12.5, "1500"),
        ("example.com/a", "v1.0.0", 30.0, "<=2091"),  # the old log's process-wide maximum: a bound
    ]


def test_steps_match_by_text_when_builds_interleave() -> None:
    assert cold_builds.steps(LOG.splitlines()) == [
        (0, "go build example.com/a@v1.0.0 (a, actl)", 30.0),
        (1, "go build example.com/b@v2.0.0 (b)", 12.5),
        (0, "build image x", None),
        (1, "go build example.com/c@v3.0.0 (c)", None),
    ]
