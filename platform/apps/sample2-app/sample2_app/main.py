"""Start: validate configuration, serve the http and metrics ports, drain on SIGTERM."""

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sample2_app import logs
from sample2_app.config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    import uvicorn

# FastAPI, uvicorn and prometheus-client are imported only once the configuration is valid:
# a misconfigured pod then fails in a fraction of a second with its one log line.

log = logging.getLogger("sample2-app")
KEEPALIVE_TIMEOUT = 5  # idle keep-alive connections are closed by the server after this
SHUTDOWN_TIMEOUT = 5  # after the drain delay: in-flight requests get this long, then exit


def _server(app: object, port: int) -> "uvicorn.Server":
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn would stop accepting at the first SIGTERM; signals are ours (drain first)."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    config = uvicorn.Config(
        app,
        host=os.environ.get("BIND_ADDRESS", "0.0.0.0"),
        port=port,
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_keep_alive=KEEPALIVE_TIMEOUT,
        timeout_graceful_shutdown=SHUTDOWN_TIMEOUT,
    )
    return Server(config)


async def serve(settings: Settings) -> None:
    from sample2_app import metrics
    from sample2_app.api import build_api, build_metrics_app
    from sample2_app.contract import ContractMiddleware
    from sample2_app.lifecycle import ConnectionAges, Lifecycle

    lifecycle = Lifecycle()
    ages = ConnectionAges(settings.max_connection_age_seconds, KEEPALIVE_TIMEOUT)
    api = ContractMiddleware(build_api(settings, lifecycle), settings.app_version, lifecycle, ages)
    scrape = ContractMiddleware(build_metrics_app(), settings.app_version, lifecycle, None, count=False)
    servers = [_server(api, settings.http_port), _server(scrape, settings.metrics_port)]
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    def on_signal(sig: signal.Signals) -> None:
        if lifecycle.draining:  # a second signal: stop waiting
            log.warning("second signal, exiting now", extra={"signal": sig.name})
            for server in servers:
                server.force_exit = True
            stop()
            return
        lifecycle.draining = True
        log.info("shutdown started", extra={"signal": sig.name, "drain_delay_seconds": settings.drain_delay_seconds})
        loop.call_later(settings.drain_delay_seconds, stop)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    metrics.app_info.labels(version=settings.app_version, color=settings.app_color).set(1)
    log.info(
        "started",
        extra={
            "version": settings.app_version,
            "color": settings.app_color,
            "http_port": settings.http_port,
            "metrics_port": settings.metrics_port,
            "fault_injection": settings.fault_injection,
        },
    )
    await asyncio.gather(*(server.serve() for server in servers))
    log.info("stopped")


def main() -> None:
    logs.setup(os.environ.get("LOG_LEVEL", "info").lower())
    try:
        settings = load_settings()
    except ConfigError as exc:
        log.error(
            f"invalid configuration: {exc.variable}: {exc.message}",
            extra={"variable": exc.variable, "invalid": exc.variables},
        )
        sys.exit(2)
    logs.setup(settings.log_level)
    asyncio.run(serve(settings))
