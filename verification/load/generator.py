"""Open-model load: requests sent at scheduled times, whatever the server does.

Send times are fixed in advance (t0 + i/rate). Latency is measured from the scheduled time, so a
slow server or a full concurrency limit shows up as latency instead of silently lowering the rate
(no coordinated omission). The concurrency limit bounds open requests; a request waiting for a slot
keeps its scheduled time.
"""

import asyncio
import multiprocessing
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Any

import httpcore
import httpx

from verification.load.aio import AsyncioBackend
from verification.load.records import Event, Record, write_log
from verification.load.summary import Summary, summarize
from verification.wait import wait_for

MAX_REQUESTS = 2_000_000  # every run is bounded in count and time


@dataclass(frozen=True)
class LoadConfig:
    url: str
    rate: float  # requests per second
    duration: float  # seconds of sending
    concurrency: int = 64
    keepalive: bool = True
    timeout: float = 5.0  # per request
    workers: int = 1  # processes sharing the schedule (more CPU for high rates)

    @property
    def scheduled(self) -> int:
        return int(self.rate * self.duration)

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"URL must start with http:// or https://, got {self.url!r}")
        if self.rate <= 0 or self.duration <= 0 or self.concurrency < 1 or self.timeout <= 0 or self.workers < 1:
            raise ValueError("rate, duration, concurrency, timeout and workers must be positive")
        if self.scheduled > MAX_REQUESTS:
            raise ValueError(f"rate x duration = {self.scheduled} requests, above the limit of {MAX_REQUESTS}")


@dataclass
class LoadResult:
    config: LoadConfig
    records: list[Record]
    events: list[Event]
    started_ns: int  # epoch ns of the first scheduled send
    files: dict[str, Path] = field(default_factory=dict)

    def summary(self) -> Summary:
        return summarize(
            self.records, target_rate=self.config.rate, duration_s=self.config.duration, scheduled=self.config.scheduled
        )

    def write(self, out_dir: Path) -> dict[str, Path]:
        """Request log (JSON lines), summary (JSON) and timeline (PNG) into `out_dir`."""
        import json

        from verification.load.plot import plot_timeline

        out_dir.mkdir(parents=True, exist_ok=True)
        files = {
            "log": out_dir / "requests.jsonl",
            "summary": out_dir / "summary.json",
            "plot": out_dir / "timeline.png",
        }
        write_log(files["log"], self.records, self.events)
        files["summary"].write_text(json.dumps(self.summary().as_dict(), indent=2) + "\n")
        plot_timeline(self.records, self.events, files["plot"], start_ns=self.started_ns, title=self.config.url)
        self.files = files
        return files


class _Clock:
    """Monotonic time for scheduling and latency, mapped to epoch ns for the log."""

    def __init__(self) -> None:
        self.mono0 = time.perf_counter_ns()
        self.epoch0 = time.time_ns()

    def now(self) -> int:
        return time.perf_counter_ns()

    def epoch(self, mono_ns: int) -> int:
        return self.epoch0 + (mono_ns - self.mono0)


def _error_kind(exc: Exception) -> str:
    if isinstance(exc, httpcore.TimeoutException | httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpcore.ConnectError | httpx.ConnectError):
        return "connect"
    if isinstance(exc, httpcore.RemoteProtocolError | httpx.RemoteProtocolError):
        return "disconnected"  # the server closed the connection without (a complete) response
    if isinstance(exc, httpcore.ReadError | httpcore.WriteError | httpx.ReadError | httpx.WriteError):
        return "reset"
    return type(exc).__name__


_ON_WIRE = {"connection.connect_tcp.started", "http11.send_request_headers.started"}


class _Lane:
    """One connection's worth of client: httpx's transport (httpcore) limited to one connection.

    httpx's shared connection pool costs CPU per request that grows with its size (measured here:
    ~1.5 ms per request with 1 connection, ~7 ms with 64), which would cap the rate far below the
    target. Independent one-connection pools keep the cost flat, and an asyncio network backend
    (verification.load.aio) takes another third off.
    """

    def __init__(self, cfg: LoadConfig, ssl_context: ssl.SSLContext | None) -> None:
        self.pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=1,
            max_keepalive_connections=1 if cfg.keepalive else 0,
            network_backend=AsyncioBackend(),
        )
        headers = [(b"Host", _host_header(cfg.url)), (b"Accept", b"*/*"), (b"User-Agent", b"platform-verify-load")]
        if not cfg.keepalive:
            headers.append((b"Connection", b"close"))
        timeout = httpx.Timeout(cfg.timeout).as_dict()
        extensions = {"timeout": timeout, "trace": self._trace}
        self.request = httpcore.Request("GET", cfg.url, headers=headers, extensions=extensions)
        self.on_wire: int | None = None

    async def _trace(self, event: str, info: dict[str, Any]) -> None:
        # The moment the request really leaves: the TCP connect of a new connection, or the
        # request headers on a reused one (httpcore's trace events).
        if self.on_wire is None and event in _ON_WIRE:
            self.on_wire = time.perf_counter_ns()

    async def get(self) -> tuple[int, str | None]:
        self.on_wire = None
        response = await self.pool.handle_async_request(self.request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        version = next((v.decode() for k, v in response.headers if k.lower() == b"x-app-version"), None)
        return response.status, version


def _host_header(url: str) -> bytes:
    parsed = httpx.URL(url)
    default = {"http": 80, "https": 443}[parsed.scheme]
    return (parsed.host if parsed.port in (None, default) else f"{parsed.host}:{parsed.port}").encode()


class _Lanes:
    """`concurrency` lanes; a request holding a concurrency slot always finds one in `free`.

    Taken from the left, given back on the right: least recently used first, so every connection
    keeps being used, like many clients each with their own connection (and a server's
    per-connection limits, e.g. max age, apply evenly).
    """

    def __init__(self, cfg: LoadConfig, concurrency: int) -> None:
        context = ssl.create_default_context() if cfg.url.startswith("https") else None
        self.all = [_Lane(cfg, context) for _ in range(concurrency)]
        self.free = deque(self.all)

    async def close(self) -> None:
        for lane in self.all:
            await lane.pool.aclose()


async def _send(
    cfg: LoadConfig,
    clock: _Clock,
    t0: int,
    seqs: range,
    concurrency: int,
    stopped: Callable[[], bool],
    records: list[Record],
) -> None:
    """Send requests `seqs` at t0 + seq/rate (monotonic ns), appending one Record per request."""
    lanes = _Lanes(cfg, concurrency)
    slots = asyncio.Semaphore(concurrency)
    interval_ns = 1e9 / cfg.rate
    epoch = clock.epoch

    async def one(seq: int, scheduled: int) -> None:
        async with slots:
            lane = lanes.free.popleft()
            taken = clock.now()
            status = error = version = None
            try:
                status, version = await lane.get()
            except Exception as exc:  # noqa: BLE001 - every failure is data for the log
                error = _error_kind(exc)
            finally:
                lanes.free.append(lane)
            done = clock.now()
            started = lane.on_wire or taken
        records.append(Record(seq, epoch(scheduled), epoch(started), done - scheduled, status, error, version))

    pending: set[asyncio.Task[None]] = set()
    try:
        for seq in seqs:
            if stopped():
                break
            scheduled = t0 + int(seq * interval_ns)
            delay = (scheduled - clock.now()) / 1e9
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(seq, scheduled))
            pending.add(task)
            task.add_done_callback(pending.discard)
        if pending:
            await asyncio.wait(pending)
    finally:
        await lanes.close()


def _worker(pipe: Connection, cfg: LoadConfig, index: int, stop: EventType) -> None:
    """A worker process: its share of the schedule, records sent back as tuples."""
    clock = _Clock()
    pipe.send("ready")
    t0_epoch = pipe.recv()
    t0 = clock.mono0 + (t0_epoch - clock.epoch0)
    records: list[Record] = []
    share = range(index, cfg.scheduled, cfg.workers)
    concurrency = max(1, -(-cfg.concurrency // cfg.workers))
    asyncio.run(_send(cfg, clock, t0, share, concurrency, stop.is_set, records))
    pipe.send([astuple(r) for r in records])


class LoadRun:
    """One run; `run()` in the current event loop, or `start()` in a background thread."""

    def __init__(self, config: LoadConfig) -> None:
        self.config = config
        self.clock = _Clock()
        self.events: list[Event] = []
        self.records: list[Record] = []
        self.result: LoadResult | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def mark(self, name: str) -> Event:
        """Mark a moment (e.g. "switch"): it goes into the request log and onto the plot."""
        event = Event(name, time.time_ns())
        self.events.append(event)
        return event

    def dwell(self, after_ns: int, what: str) -> None:
        """Let the load run until a request was sent after `after_ns` (observed, not slept)."""
        wait_for(
            lambda: self.records[-1].started_ns if self.records else 0,
            what=what,
            timeout=60,
            interval=0.2,
            until=lambda last: last > after_ns,
        )

    def stop(self) -> None:
        """Stop sending early; requests already sent still complete."""
        self._stop.set()

    async def run(self) -> LoadResult:
        cfg = self.config
        if cfg.workers == 1:
            t0 = self.clock.now() + 10_000_000  # 10 ms to set up, then the schedule starts
            await _send(cfg, self.clock, t0, range(cfg.scheduled), cfg.concurrency, self._stop.is_set, self.records)
            started_ns = self.clock.epoch(t0)
        else:
            started_ns = await asyncio.to_thread(self._run_workers)
        self.records.sort(key=lambda r: r.seq)
        self.result = LoadResult(cfg, self.records, sorted(self.events, key=lambda e: e.time_ns), started_ns)
        return self.result

    def _run_workers(self) -> int:
        """Share the schedule among worker processes (seq k goes to worker k mod N); one t0 for all."""
        cfg = self.config
        ctx = multiprocessing.get_context("spawn")  # safe beside threads (tests run loads in one)
        stop = ctx.Event()
        pipes, procs = [], []
        for index in range(cfg.workers):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(child, cfg, index, stop), name=f"load-worker-{index}", daemon=True)
            proc.start()
            pipes.append(parent)
            procs.append(proc)
        try:
            for pipe in pipes:
                if not pipe.poll(120) or pipe.recv() != "ready":
                    raise RuntimeError("a load worker process did not start")
            t0 = time.time_ns() + 50_000_000  # every worker is waiting: start together in 50 ms
            for pipe in pipes:
                pipe.send(t0)
            waiting = set(range(cfg.workers))
            deadline = time.monotonic() + cfg.duration + cfg.timeout + 120
            while waiting:
                if self._stop.is_set():
                    stop.set()
                for index in list(waiting):
                    if pipes[index].poll(0.05):
                        self.records.extend(Record(*fields) for fields in pipes[index].recv())
                        waiting.discard(index)
                if time.monotonic() > deadline:
                    raise TimeoutError(f"load workers did not finish (waiting for {sorted(waiting)})")
            return t0
        finally:
            for proc in procs:
                proc.join(5)
                if proc.is_alive():
                    proc.kill()

    # Background use, beside a synchronous test.
    def start(self) -> "LoadRun":
        def target() -> None:
            try:
                asyncio.run(self.run())
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread by join()
                self._error = exc

        self._thread = threading.Thread(target=target, name="load-generator", daemon=True)
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> LoadResult:
        if self._thread is None:
            raise RuntimeError("load run was not started")
        budget = timeout if timeout is not None else self.config.duration + self.config.timeout + 30
        self._thread.join(budget)
        if self._thread.is_alive():
            self.stop()
            self._thread.join(self.config.timeout + 5)
            raise TimeoutError(f"load run against {self.config.url} did not finish within {budget:.0f}s")
        if self._error is not None:
            raise self._error
        assert self.result is not None
        return self.result


def run_load(config: LoadConfig, out_dir: Path | None = None) -> LoadResult:
    """Run in the foreground (own event loop); write the files if `out_dir` is given."""
    result = asyncio.run(LoadRun(config).run())
    if out_dir is not None:
        result.write(out_dir)
    return result


@contextmanager
def background(config: LoadConfig, out_dir: Path | None = None, *, stop_on_exit: bool = False) -> Iterator[LoadRun]:
    """Run the load beside the `with` body; on exit wait for it (or stop it) and write the files."""
    load = LoadRun(config).start()
    try:
        yield load
    except BaseException:
        load.stop()  # the test failed: keep its evidence, stop sending
        raise
    finally:
        if stop_on_exit:
            load.stop()
        result = load.join()
        if out_dir is not None:
            result.write(out_dir)
