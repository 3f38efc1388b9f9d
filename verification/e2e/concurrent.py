"""Live runs that share nothing, side by side: a warm e2e in minutes on 2 cores (issue 15 item 4).

The long live runs of the whole session (an alert fault, a blue-green run under load, the
NetworkPolicy probe matrix) are jobs, submitted once the stack is deployed (the `lanes` fixture
of verification/e2e/conftest.py asks each test module's `jobs()`), and run in threads while pytest
goes through the short tests. Each job names what it holds: `exclusive` keys no other job may hold
meanwhile (an app: its release, faults and load; the Alertmanager configuration while it is broken
on purpose; the platform's traffic while probe pods carry the apps' labels), `shared` keys others
may read meanwhile but nobody may hold exclusively (the repository's Alertmanager configuration,
which every delivery check relies on). The key EVERYTHING conflicts with every job (a node drain).
A job starts once every job submitted before it that conflicts with it has finished, every job
it comes `after` has finished, and fewer than `limit` jobs run; so two jobs run side by side only
when their keys say they share nothing, and jobs on the same key run in submission order.

Each test awaits its own job (`Lanes.result`, named by the test's node id) and asserts on what
the job returns: a job's exception is raised in the test that owns it, never in another's. A
test that works in its own body holds keys meanwhile with `Lanes.hold`. `timeline()` says when
each job ran, for the phase report.
"""

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EVERYTHING = "*"  # held exclusively, conflicts with every other job
# The apps' Services and Prometheus' targets select pods by labels, and the NetworkPolicy probe
# matrix runs pods with exactly those labels and edits the platform's policies: while it runs,
# the apps' traffic, scrapes and alerts are not the platform's own.
PLATFORM_TRAFFIC = "platform-traffic"
APP_OBJECTS = "objects:app-namespace"  # every object of the apps' namespace (a refused switch changes none)
# The machine's cores: the blue-green runs under load share them; the generated NetworkPolicy
# cases (12 probe execs at once) take them alone. Both at once on 2 cores drove the load average
# to ~30 and the blue-green runs lost requests to timeouts, so the cases run beside the alert
# faults instead, which mostly wait for Prometheus.
CPU = "cpu"


def app_key(app: str) -> str:
    """What a job holds while it deploys, flips, faults or loads `app`."""
    return f"app:{app}"


@dataclass(frozen=True)
class Spec:
    """A job a test module submits (its `jobs()`), named by the test that awaits it."""

    name: str
    run: Callable[[], Any]
    exclusive: tuple[str, ...] = ()
    shared: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    order: int | None = None  # when it is submitted among every module's jobs (default: its module's JOB_ORDER)


@dataclass(frozen=True)
class Hold:
    """What a job holds while it runs."""

    exclusive: frozenset[str] = frozenset()
    shared: frozenset[str] = frozenset()

    def conflicts(self, other: "Hold") -> bool:
        if EVERYTHING in self.exclusive | other.exclusive:
            return True
        return bool(self.exclusive & (other.exclusive | other.shared) or other.exclusive & self.shared)


@dataclass
class Job:
    name: str
    hold: Hold
    run: Callable[[], Any]
    after: frozenset[str] = frozenset()
    future: "Future[Any]" = field(default_factory=Future)
    awaited: bool = False
    started: float | None = None  # monotonic
    finished: float | None = None


class Lanes:
    """Jobs in threads, started as their holds allow (see the module's docstring)."""

    def __init__(self, limit: int = 2) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.jobs: list[Job] = []
        self.begun = time.monotonic()
        self.unavailable = ""  # why no job was submitted (the stack is not deployed), if so
        self._changed = threading.Condition()

    def submit(
        self,
        name: str,
        run: Callable[[], Any],
        *,
        exclusive: Iterable[str] = (),
        shared: Iterable[str] = (),
        after: Iterable[str] = (),
    ) -> None:
        hold = Hold(frozenset(exclusive), frozenset(shared))
        with self._changed:
            if any(job.name == name for job in self.jobs):
                raise ValueError(f"job {name!r} submitted twice")
            unknown = sorted(set(after) - {job.name for job in self.jobs})
            if unknown:  # an unknown name would wait forever
                raise ValueError(f"job {name!r} comes after jobs not submitted before it: {unknown}")
            job = Job(name, hold, run, frozenset(after))
            self.jobs.append(job)
        threading.Thread(target=self._run, args=(job,), name=f"lane {name}", daemon=True).start()

    def _may_start(self, job: Job) -> bool:
        running = sum(1 for j in self.jobs if j.started is not None and j.finished is None)
        if running >= self.limit:
            return False
        earlier = self.jobs[: self.jobs.index(job)]
        return all(j.finished is not None for j in earlier if j.hold.conflicts(job.hold) or j.name in job.after)

    @contextmanager
    def hold(self, name: str, *, exclusive: Iterable[str] = (), shared: Iterable[str] = ()) -> Iterator[None]:
        """Hold keys for the body of a `with` (a test working in its own body): it starts as a job
        submitted now would, and the keys are free again when the body ends."""
        entered, left = threading.Event(), threading.Event()

        def body() -> None:
            entered.set()
            left.wait()

        self.submit(name, body, exclusive=exclusive, shared=shared)
        job = self._job(name)
        job.awaited = True
        while not entered.wait(1):
            if job.future.done():  # cannot happen unless body() raised: say so rather than hang
                job.future.result()
        try:
            yield
        finally:
            left.set()
            job.future.result()

    def _run(self, job: Job) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._may_start(job))
            job.started = time.monotonic()
        try:
            job.future.set_result(job.run())
        except BaseException as exc:  # noqa: BLE001 - raised again in the test that awaits the job
            job.future.set_exception(exc)
        finally:
            with self._changed:
                job.finished = time.monotonic()
                self._changed.notify_all()

    def _job(self, name: str) -> Job:
        found = [job for job in self.jobs if job.name == name]
        if not found and self.unavailable:
            raise LookupError(self.unavailable)
        if not found:
            raise KeyError(f"no job {name!r} was submitted (have {', '.join(j.name for j in self.jobs) or 'none'})")
        return found[0]

    def result(self, name: str, timeout: float | None = None) -> Any:
        """What job `name` returned; its exception if it raised one."""
        job = self._job(name)
        job.awaited = True
        return job.future.result(timeout)

    def passing(self, name: str, fn: Callable[..., Any], *args: Any) -> Callable[[], Any]:
        """A job body calling `fn(<what job name returned>, *args)`: for a job that comes after
        `name` (a setup whose result it uses); the setup's exception is raised in it."""
        return lambda: fn(self.result(name), *args)

    def unawaited_failures(self) -> list[str]:
        """Jobs no test awaited (setups, restores) that raised: their failure is the session's."""
        return [f"{job.name}: {type(exc).__name__}: {exc}" for job in self.jobs
                if not job.awaited and job.future.done() and (exc := job.future.exception()) is not None]  # fmt: skip

    def join(self, timeout: float | None = None) -> list[str]:
        """Wait for every job (at most `timeout` seconds in all); the names of those still running."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for job in list(self.jobs):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                job.future.exception(left)
            except TimeoutError:
                pass
        return [job.name for job in self.jobs if job.finished is None]

    def finish(self, folder: Path, what: str, timeout: float) -> None:
        """Wait for every job, keep the timeline in `folder`/lanes.txt and print it; fail if one
        still runs or if a job no test awaited failed."""
        left = self.join(timeout=timeout)
        timeline = self.timeline()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "lanes.txt").write_text(timeline + "\n")
        spans = [{"job": job.name, "start": job.started - self.begun, "end": job.finished - self.begun}
                 for job in self.jobs if job.started is not None and job.finished is not None]  # fmt: skip
        (folder / "lanes.json").write_text(json.dumps(spans, indent=1) + "\n")
        print(f"\n{what} jobs side by side:\n{timeline}")
        assert not left, f"{what} jobs still running after {timeout:.0f}s: {left}"
        failed = self.unawaited_failures()
        assert not failed, f"{what} jobs that no test awaited failed:\n" + "\n".join(failed)

    def timeline(self) -> str:
        """When each job waited, started and finished, in seconds since the lanes were made."""
        rows = [f"{'job':90} {'start':>7} {'end':>7} {'took':>7}  holds"]
        for job in self.jobs:
            start = "-" if job.started is None else f"{job.started - self.begun:.1f}"
            end = "-" if job.finished is None else f"{job.finished - self.begun:.1f}"
            took = "-" if job.started is None or job.finished is None else f"{job.finished - job.started:.1f}"
            holds = ", ".join([*sorted(job.hold.exclusive), *(f"{k} (shared)" for k in sorted(job.hold.shared))])
            name = job.name.rpartition("/")[2]  # a node id without its folder
            rows.append(f"{name[:90]:90} {start:>7} {end:>7} {took:>7}  {holds}")
        return "\n".join(rows)
