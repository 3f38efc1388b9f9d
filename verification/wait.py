"""The one way to wait: poll with a deadline, say what was awaited and what was seen last."""

import time
from collections.abc import Callable
from typing import TypeVar

from verification.errors import WaitTimeout

T = TypeVar("T")


def wait_for(
    probe: Callable[[], T],
    *,
    what: str,
    timeout: float,
    interval: float = 0.5,
    until: Callable[[T], bool] = bool,
    describe: Callable[[T], str] = repr,
) -> T:
    """Call `probe` until `until(result)` holds; return that result.

    Exceptions from the probe count as "not yet" and are reported as the last observation.
    """
    deadline = time.monotonic() + timeout
    last = "nothing observed yet"
    while True:
        try:
            result = probe()
            if until(result):
                return result
            last = describe(result)
        except Exception as exc:  # noqa: BLE001 - any failure is an observation while waiting
            last = f"{type(exc).__name__}: {exc}"
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WaitTimeout(f"timed out after {timeout:.0f}s waiting for {what}; last seen: {last}")
        time.sleep(min(interval, remaining))
