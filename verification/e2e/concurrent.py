"""Live runs that share nothing, side by side: a warm e2e in minutes on 2 cores (issue 15 item 4).

A test module's long live runs (an alert fault, a blue-green run under load) are jobs. Each job
names what it holds: `exclusive` keys no other job may hold meanwhile (an app's faults and load in
its environment, an app's Helm release, the Alertmanager configuration while it is broken on
purpose), `shared` keys others may read meanwhile but nobody may hold exclusively (the repository's
Alertmanager configuration, which every delivery check relies on). A job starts once every job
submitted before it that conflicts with it has finished, and while fewer than `limit` jobs run;
so two jobs run side by side only when their keys say they share nothing, and jobs on the same
key run in the order they were submitted (which is the order pytest runs their tests).

Each test awaits its own job (`Lanes.result`) and asserts on what the job returns: a job's
exception is raised in the test that owns it, never in another's. `timeline()` says when each job
ran, for the phase report.
"""

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Hold:
    """What a job holds while it runs."""

    exclusive: frozenset[str] = frozenset()
    shared: frozenset[str] = frozenset()

    def conflicts(self, other: "Hold") -> bool:
        return bool(self.exclusive & (other.exclusive | other.shared) or other.exclusive & self.shared)


@dataclass
class Job:
    name: str
    hold: Hold
    run: Callable[[], Any]
    future: "Future[Any]" = field(default_factory=Future)
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
        self._changed = threading.Condition()

    def submit(
        self, name: str, run: Callable[[], Any], *, exclusive: Iterable[str] = (), shared: Iterable[str] = ()
    ) -> None:
        hold = Hold(frozenset(exclusive), frozenset(shared))
        with self._changed:
            if any(job.name == name for job in self.jobs):
                raise ValueError(f"job {name!r} submitted twice")
            job = Job(name, hold, run)
            self.jobs.append(job)
        threading.Thread(target=self._run, args=(job,), name=f"lane {name}", daemon=True).start()

    def _may_start(self, job: Job) -> bool:
        running = sum(1 for j in self.jobs if j.started is not None and j.finished is None)
        if running >= self.limit:
            return False
        earlier = self.jobs[: self.jobs.index(job)]
        return all(j.finished is not None for j in earlier if j.hold.conflicts(job.hold))

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
        if not found:
            raise KeyError(f"no job {name!r} was submitted (have {', '.join(j.name for j in self.jobs) or 'none'})")
        return found[0]

    def result(self, name: str, timeout: float | None = None) -> Any:
        """What job `name` returned; its exception if it raised one."""
        return self._job(name).future.result(timeout)

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
        """Wait for every job, keep the timeline in `folder`/lanes.txt and print it; fail if one still runs."""
        left = self.join(timeout=timeout)
        timeline = self.timeline()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "lanes.txt").write_text(timeline + "\n")
        print(f"\n{what} jobs side by side:\n{timeline}")
        assert not left, f"{what} jobs still running after {timeout:.0f}s: {left}"

    def timeline(self) -> str:
        """When each job waited, started and finished, in seconds since the lanes were made."""
        rows = [f"{'job':72} {'start':>7} {'end':>7} {'took':>7}  holds"]
        for job in self.jobs:
            start = "-" if job.started is None else f"{job.started - self.begun:.1f}"
            end = "-" if job.finished is None else f"{job.finished - self.begun:.1f}"
            took = "-" if job.started is None or job.finished is None else f"{job.finished - job.started:.1f}"
            holds = ", ".join([*sorted(job.hold.exclusive), *(f"{k} (shared)" for k in sorted(job.hold.shared))])
            rows.append(f"{job.name[:72]:72} {start:>7} {end:>7} {took:>7}  {holds}")
        return "\n".join(rows)
