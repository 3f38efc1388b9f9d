"""A webhook receiver that records every Alertmanager notification with its arrival time.

Each platform receiver posts to `/<receiver name>`; the bearer token proves the credential
came from the file the configuration names, as a real Slack/PagerDuty call would.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Notification:
    receiver: str  # from the URL path: which platform receiver Alertmanager called
    status: str  # firing | resolved (of the group)
    alerts: tuple[dict[str, Any], ...]
    received: float  # time.time()


@dataclass
class WebhookReceiver:
    token: str
    notifications: list[Notification] = field(default_factory=list)
    rejected: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                authorized = self.headers.get("Authorization") == f"Bearer {receiver.token}"
                if authorized:
                    payload = json.loads(body)
                    alerts = tuple(payload.get("alerts") or ())
                    note = Notification(self.path.strip("/"), payload.get("status", "?"), alerts, time.time())
                    with receiver._lock:
                        receiver.notifications.append(note)
                else:
                    receiver.rejected += 1
                self.send_response(200 if authorized else 401)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def received(self) -> list[Notification]:
        with self._lock:
            return list(self.notifications)

    def first(self, receiver: str, labels: dict[str, str], status: str, after: float = 0.0) -> Notification | None:
        """First notification to `receiver` carrying an alert with `labels` in state `status`."""
        for note in self.received():
            if note.receiver != receiver or note.received < after:
                continue
            for alert in note.alerts:
                if alert.get("status") == status and _has(alert.get("labels") or {}, labels):
                    return note
        return None

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _has(labels: dict[str, str], wanted: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in wanted.items())
