"""Outermost ASGI layer: X-App-Version, Connection: close, metrics, access log, last-resort errors.

It wraps the whole FastAPI app (outside Starlette's ServerErrorMiddleware), so even responses
produced for unhandled errors carry the contract's header and are counted.
"""

import json
import logging
import time
from typing import Any

from sample2_app import metrics
from sample2_app.faults import InjectedFault
from sample2_app.lifecycle import ConnectionAges, Lifecycle

log = logging.getLogger("sample2-app.http")
_DROP = {b"x-app-version", b"connection"}
ERROR_BODY = json.dumps({"error": "internal_error", "message": "internal server error", "status": 500}).encode()


class ContractMiddleware:
    def __init__(
        self, app: Any, version: str, lifecycle: Lifecycle, ages: ConnectionAges | None, count: bool = True
    ) -> None:
        self.app = app
        self.version = version.encode()
        self.lifecycle = lifecycle
        self.ages = ages
        self.count = count

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        too_old = self.ages.expired(scope.get("client")) if self.ages else False
        status = 500
        started = False

        async def send_with_contract(message: dict) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _DROP]
                headers.append((b"x-app-version", self.version))
                # Checked when the response starts, so requests in flight at SIGTERM close too.
                if too_old or self.lifecycle.draining:
                    headers.append((b"connection", b"close"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_contract)
        except InjectedFault:
            log.warning("injected fault", extra={"method": scope["method"], "path": scope["path"]})
        except Exception:
            # Starlette answers first, then re-raises for the server to log: log it here, as JSON.
            log.exception("unhandled error", extra={"method": scope["method"], "path": scope["path"]})
            if not started:
                await send_with_contract(
                    {"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"application/json")]}
                )
                await send({"type": "http.response.body", "body": ERROR_BODY})
        finally:
            self._observe(scope, status, time.perf_counter() - start)

    def _observe(self, scope: dict, status: int, seconds: float) -> None:
        route = scope.get("route")
        labels = {"method": scope["method"], "route": getattr(route, "path", "unmatched"), "status": str(status)}
        if self.count:
            metrics.requests_total.labels(**labels).inc()
            metrics.request_duration.labels(**labels).observe(seconds)
        log.debug("request", extra={**labels, "path": scope["path"], "duration_ms": round(seconds * 1000, 3)})
