"""The request log: one JSON object per request (and per event mark), one per line."""

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Record:
    """One request. Times are Unix epoch nanoseconds; latency counts from the scheduled time.

    `started_ns` is when the request went on the wire: the TCP connect of a new connection, or the
    request headers on a kept-alive one.
    """

    seq: int
    scheduled_ns: int
    started_ns: int
    latency_ns: int
    status: int | None  # HTTP status, None when no response came
    error: str | None  # kind of transport error (timeout, connect, disconnected, ...), else None
    version: str | None  # X-App-Version of the response

    @property
    def failed(self) -> bool:
        return self.error is not None or self.status is None or self.status >= 400

    @property
    def failure_kind(self) -> str | None:
        """`http_<status>` for error statuses, the transport error kind otherwise, None if it succeeded."""
        if self.error is not None:
            return self.error
        if self.status is None or self.status >= 400:
            return f"http_{self.status}"
        return None


@dataclass(frozen=True, slots=True)
class Event:
    """A moment a test marked beside the load (e.g. "switch")."""

    name: str
    time_ns: int


def write_log(path: Path, records: Iterable[Record], events: Iterable[Event]) -> None:
    with path.open("w") as out:
        for event in events:
            out.write(json.dumps({"event": event.name, "time_ns": event.time_ns}) + "\n")
        for record in records:
            out.write(json.dumps(asdict(record)) + "\n")
