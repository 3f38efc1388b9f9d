"""The repository's pytest configuration keeps a conformance run free of what it does not use."""

import re
import subprocess
import sys

from verification.paths import REPO_ROOT


def _imports(*args: str) -> str:
    """stderr of `python -X importtime -m pytest -s ARGS`: one line per module imported (uncaptured)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    return proc.stderr


def test_a_run_without_hypothesis_tests_never_imports_hypothesis() -> None:
    # hypothesis's plugin imported it for its terminal summary: 1-2 s of every conformance run.
    imported = _imports("verification/conformance/test_namespaces.py")
    assert "verification.models.netpol.segmentation" in imported, "no import time was reported"
    assert not re.search(r"\|\s+hypothesis$", imported, re.MULTILINE)


def test_a_run_with_hypothesis_tests_keeps_the_plugin() -> None:
    statistics = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--hypothesis-show-statistics",
         "tests/netpol/test_properties.py", "-k", "order"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert "Hypothesis Statistics" in statistics.stdout, statistics.stdout[-2000:]
