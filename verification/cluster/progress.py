"""Every build step says what it does and how long it took."""

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def step(what: str) -> Iterator[None]:
    say(f"==> {what}")
    start = time.monotonic()
    try:
        yield
    except BaseException:
        say(f"<== FAILED after {time.monotonic() - start:.1f}s: {what}")
        raise
    say(f"<== {time.monotonic() - start:.1f}s: {what}")
