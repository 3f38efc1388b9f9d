"""The HTTP contract's routes and error handlers (FastAPI)."""

import asyncio
import json
import socket

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sample2_app import APP_NAME, metrics
from sample2_app.config import Settings
from sample2_app.faults import Faults, FaultState, InjectedFault
from sample2_app.lifecycle import Lifecycle

GET = ["GET", "HEAD"]
ERROR_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large", 500: "internal_error"}
MESSAGES = {404: "not found", 405: "method not allowed", 500: "internal server error"}


def error_response(status: int, message: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {
        "error": ERROR_CODES.get(status, "error"),
        "message": message or MESSAGES.get(status, "error"),
        "status": status,
    }
    return JSONResponse(body, status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    # Central error handling: every error is JSON {error, message, status}; no stack traces.
    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if exc.status_code == 400 else None
        return error_response(exc.status_code, detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, "invalid request")

    @app.exception_handler(Exception)
    async def unhandled(_: Request, exc: Exception) -> JSONResponse:
        return error_response(500)


def metrics_response() -> Response:
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def build_api(settings: Settings, lifecycle: Lifecycle) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    _install_error_handlers(app)
    faults = FaultState()
    identity = {"app": APP_NAME, "version": settings.app_version, "color": settings.app_color}
    hostname = socket.gethostname()

    @app.api_route("/", methods=GET)
    async def root() -> dict:
        current = faults.current
        if current.latency_ms:
            await asyncio.sleep(current.latency_ms / 1000)
        if faults.should_fail():
            raise InjectedFault("injected fault")
        return {**identity, "hostname": hostname}

    @app.api_route("/healthz", methods=GET)
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.api_route("/readyz", methods=GET, response_model=None)
    async def readyz() -> dict | JSONResponse:
        if lifecycle.draining:
            return JSONResponse({"status": "draining"}, status_code=503)
        return {"status": "ready"}

    @app.api_route("/version", methods=GET)
    async def version() -> dict:
        return identity

    app.add_api_route("/metrics", metrics_response, methods=GET)

    if settings.fault_injection == "enabled":

        @app.get("/admin/faults")
        async def get_faults() -> dict:
            return faults.current.model_dump()

        @app.post("/admin/faults")
        async def set_faults(request: Request) -> dict:
            body = await request.body()
            if len(body) > 4096:
                raise HTTPException(413, "body too large")
            try:
                data = json.loads(body)
            except ValueError:
                raise HTTPException(400, "body must be a JSON object") from None
            if not isinstance(data, dict):
                raise HTTPException(400, "body must be a JSON object")
            try:
                faults.current = Faults.model_validate(data)
            except ValidationError as exc:
                first = exc.errors()[0]
                field = ".".join(str(p) for p in first["loc"]) or "body"
                raise HTTPException(400, f"{field}: {first['msg']}") from None
            return faults.current.model_dump()

        @app.delete("/admin/faults")
        async def clear_faults() -> dict:
            faults.current = Faults()
            return faults.current.model_dump()

    return app


def build_metrics_app() -> FastAPI:
    """The metrics port: `/metrics` only, so a NetworkPolicy can open it to Prometheus alone."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    _install_error_handlers(app)
    app.add_api_route("/metrics", metrics_response, methods=GET)
    return app
