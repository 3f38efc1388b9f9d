"""Run the conformance suite once per mutant, each on its own copy of the repository.

A worker owns one copy (workspace) for the whole run: it writes the mutant's files, runs the
suite, and writes the original texts back, so a copy is made once per worker, not per mutant.
The copy runs its own `verification` package (PYTHONPATH), so every path the suite derives from
its package (platform/, .gitlab-ci.yml, the charts ArgoCD points at) is the copy's.
SIGTERM or SIGINT (stop_on_signals): no further mutant starts, every running suite is stopped
with what it started, the copies are removed, and the run exits 128 + signal with one line.
"""

import os
import queue
import re
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from verification.errors import CommandError, UserError, VerificationError
from verification.mutants.catalog import Mutant
from verification.mutants.edits import StaleEdit, YamlLoader, apply
from verification.run import run, stop_started

CONFORMANCE = "verification/conformance"
OPTIONS = ("-x", "-q", "-p", "no:cacheprovider", "-rfE", "--no-header")
SUITE = (CONFORMANCE, *OPTIONS)
# The test modules most likely to kill a mutant of each area run first: with -x a killed mutant
# then costs a few modules, not the whole suite. Every module still runs for a survivor, so the
# order changes which failing test is named first, never whether a mutant is killed.
FIRST = {
    "rbac": ("test_rbac*.py",),
    "netpol": ("test_netpol*.py",),
    "podsecurity": ("test_pod_security*.py", "test_namespaces.py"),
    # The chart's own mutation test edits template text: it fails on any template change, so the
    # checks that name the misconfiguration run before it.
    "charts": ("test_charts.py", "test_availability.py", "test_capacity.py", "test_charts*.py"),
    "monitoring": ("test_notification_timing.py", "test_alert*.py", "test_scrape*.py", "test_dashboards.py"),
    "argocd": ("test_argocd*.py",),
    "ci": ("test_gitlab_ci*.py",),
    "quotas": ("test_namespaces.py", "test_capacity.py", "test_exposure.py"),
    "admission": ("test_scrape_class_admission.py",),
    "references": (
        "test_references.py",
        "test_components.py",
        "test_exposure.py",
        "test_workload_hygiene.py",
        "test_linter_coverage.py",
        "test_rule_hygiene.py",
    ),
}
# Not part of what the suite reads; large (node_modules) or private to this checkout (.git).
_IGNORE = shutil.ignore_patterns(
    ".git",
    ".nox",
    "artifacts",
    "node_modules",
    "__pycache__",
    "*.egg-info",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
    ".mypy_cache",  # 50 MB, copied once per mutant before
)
_FAILURE = re.compile(r"^(FAILED|ERROR) (\S+)(?: - (.*))?$", re.MULTILINE)

KILLED, SURVIVED, EQUIVALENT, STALE, ERROR = "killed", "survived", "equivalent", "stale", "error"
# Set when the run is interrupted (SIGTERM, SIGINT): workers start no further mutant.
STOP = threading.Event()


class Interrupted(VerificationError):
    """SIGTERM or SIGINT: running suites stopped, copies removed; exit 128 + the signal's number."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.exit_code = 128 + signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")


def stop_on_signals() -> Callable[[], None]:
    """Install handlers for SIGTERM and SIGINT (main thread): stop the workers and every suite
    still running (its whole process group), then raise Interrupted in the main thread so the
    copies are removed on the way out. Returns a function that restores the previous handlers."""

    def handler(signum: int, _frame: object) -> None:
        if STOP.is_set():
            return  # a second signal must not interrupt the cleanup of the first
        STOP.set()
        stop_started(signal.SIGTERM)
        raise Interrupted(signum)

    STOP.clear()
    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for signum, old in previous.items():
            signal.signal(signum, old)

    return restore


@dataclass
class Result:
    id: str
    area: str
    description: str
    outcome: str
    seconds: float = 0.0
    killed_by: str | None = None  # the first failing test (and its message) that killed it
    detail: str | None = None  # why stale / error, or the reason it is equivalent


@dataclass
class Outcome:
    """A finished suite run on one tree."""

    returncode: int
    output: str
    seconds: float
    failure: str | None = field(default=None)


def make_workspace(repo: Path, where: Path, rev: str | None = None) -> Path:
    """A copy of the repository that the suite can run in (node_modules linked, not copied).

    Without `rev`, the working tree as it is (what a user measures locally); with `rev`, the files
    of that commit (a shared working tree with others' edits in progress stays out of the measure).
    """
    if rev is None:
        shutil.copytree(repo, where, ignore=_IGNORE, symlinks=True)
    else:
        where.mkdir(parents=True)
        archive = where.parent / f"{where.name}.tar"
        try:
            run(["git", "-C", repo, "archive", "--format=tar", "-o", archive, rev])
        except CommandError as exc:
            raise UserError(f"--rev {rev}: git archive failed in {repo}: {str(exc).splitlines()[-1]}") from None
        shutil.unpack_archive(archive, where)
        archive.unlink()
    for modules in repo.glob("platform/apps/*/node_modules"):
        (where / modules.relative_to(repo)).symlink_to(modules, target_is_directory=True)
    return where


def mutated_files(mutant: Mutant, root: Path) -> dict[Path, tuple[str, str]]:
    """{file: (original text, mutated text)} for a mutant's edits, or StaleEdit."""
    path = root / mutant.file
    if not path.is_file():
        raise StaleEdit(f"{mutant.file}: no such file")
    original = path.read_text(encoding="utf-8")
    text = original
    for number, edit in enumerate(mutant.edits, 1):
        try:
            text = apply(text, edit)
        except StaleEdit as exc:
            raise StaleEdit(f"{mutant.file}: edit {number} ({edit.describe()}): {exc}") from None
    if path.suffix in (".yaml", ".yml") and "templates" not in path.parts:
        try:  # a mutant is a realistic misconfiguration, never a file no tool can read
            list(yaml.load_all(text, Loader=YamlLoader))
        except yaml.YAMLError as exc:
            raise StaleEdit(f"{mutant.file}: the edits leave malformed YAML ({str(exc).splitlines()[0]})") from None
    return {path: (original, text)}


def first_failure(output: str) -> str | None:
    """`test id - message` of the first FAILED/ERROR line of pytest's short summary."""
    found = _FAILURE.search(output)
    if not found:
        return None
    return found[2] + (f" - {found[3].strip()[:300]}" if found[3] else "")


def run_suite(root: Path, suite: Sequence[str] = SUITE, timeout: float = 600) -> Outcome:
    env = {
        **os.environ,
        "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "PLATFORM_VERIFY_ARTIFACTS": str(root / "artifacts"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "COLUMNS": "400",  # pytest cuts its summary lines at the terminal width: keep the message
    }
    started = time.monotonic()
    try:
        # A session of its own: a timeout or an interrupted run stops pytest and the tools it started.
        proc = run(
            [sys.executable, "-m", "pytest", *suite], check=False, cwd=root, env=env, timeout=timeout, session=True
        )
    except CommandError as exc:  # timed out
        return Outcome(-1, exc.stdout + exc.stderr, time.monotonic() - started)
    output = proc.stdout + proc.stderr
    output = output.replace(f"{root}/", "")  # messages name repository paths, not the copy
    return Outcome(proc.returncode, output, time.monotonic() - started, first_failure(output))


def classify(mutant: Mutant, outcome: Outcome) -> Result:
    result = Result(mutant.id, mutant.area, mutant.description, ERROR, round(outcome.seconds, 1))
    # 1: tests failed; 2: interrupted, here by an error while collecting (the suite is red too).
    if outcome.returncode == 0:
        result.outcome = SURVIVED
    elif outcome.returncode in (1, 2) and outcome.failure:
        result.outcome, result.killed_by = KILLED, outcome.failure
    else:
        tail = "\n".join(outcome.output.strip().splitlines()[-5:])
        what = "timed out" if outcome.returncode == -1 else f"pytest exited {outcome.returncode}"
        result.detail = f"{what}: {tail}"
    return result


def ordered_suite(root: Path, area: str) -> tuple[str, ...]:
    """The whole conformance suite as module paths, the area's likely killers first."""
    modules = sorted(p.relative_to(root).as_posix() for p in (root / CONFORMANCE).rglob("test_*.py"))
    first = [m for pattern in FIRST.get(area, ()) for m in modules if Path(m).match(pattern)]
    ordered = list(dict.fromkeys([*first, *modules]))
    return (*ordered, *OPTIONS) if ordered else SUITE


def run_mutant(mutant: Mutant, root: Path, *, suite: Sequence[str] | None = None, timeout: float = 600) -> Result:
    """Apply, run, restore: the copy is unmutated again when this returns."""
    try:
        files = mutated_files(mutant, root)
    except StaleEdit as exc:
        return Result(mutant.id, mutant.area, mutant.description, STALE, detail=f"stale mutant: {exc}")
    if mutant.equivalent:
        return Result(mutant.id, mutant.area, mutant.description, EQUIVALENT, detail=mutant.equivalent)
    try:
        for path, (_, text) in files.items():
            path.write_text(text, encoding="utf-8")
        return classify(mutant, run_suite(root, suite or ordered_suite(root, mutant.area), timeout))
    finally:
        for path, (original, _) in files.items():
            path.write_text(original, encoding="utf-8")


def run_all(
    mutants: list[Mutant],
    workspaces: list[Path],
    *,
    suite: Sequence[str] | None = None,
    timeout: float = 600,
    progress: Callable[[Result, int, int], None] | None = None,
) -> list[Result]:
    """Every mutant, one per free workspace at a time; results in catalog order."""
    STOP.clear()
    free: queue.Queue[Path] = queue.Queue()
    for workspace in workspaces:
        free.put(workspace)
    done: list[Result] = []
    lock = threading.Lock()

    def one(mutant: Mutant) -> Result:
        if STOP.is_set():  # interrupted: the mutants still queued are not started
            return Result(mutant.id, mutant.area, mutant.description, ERROR, detail="interrupted")
        root = free.get()
        try:
            result = run_mutant(mutant, root, suite=suite, timeout=timeout)
        finally:
            free.put(root)
        with lock:
            done.append(result)
            if progress:
                progress(result, len(done), len(mutants))
        return result

    pool = ThreadPoolExecutor(max_workers=len(workspaces))
    futures = [pool.submit(one, mutant) for mutant in mutants]
    try:
        return [future.result() for future in futures]
    except BaseException:  # interrupted: no worker may outlive this call, nor keep a suite running
        STOP.set()
        for future in futures:
            future.cancel()
        while not all(future.done() for future in futures):
            stop_started(signal.SIGTERM)  # again: a suite may have started after the first stop
            wait(futures, timeout=0.5)
        raise
    finally:
        pool.shutdown(wait=True)
