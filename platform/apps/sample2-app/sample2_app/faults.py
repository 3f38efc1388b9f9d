"""Fault control for tests: an error ratio and an added latency, applied to `GET /`."""

import random
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class Faults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    error_ratio: Annotated[float, Field(ge=0.0, le=1.0, strict=True)] = 0.0
    latency_ms: Annotated[int, Field(ge=0, le=60_000, strict=True)] = 0


class InjectedFault(Exception):
    """Raised by a request chosen to fail, so it takes the same path as any unhandled error."""


class FaultState:
    def __init__(self) -> None:
        self.current = Faults()

    def should_fail(self) -> bool:
        ratio = self.current.error_ratio
        return ratio > 0 and random.random() < ratio
