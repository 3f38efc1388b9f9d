"""localapp.wait_ready, the one readiness wait of the local app, Prometheus and Alertmanager processes."""

import time
from pathlib import Path

import pytest

from verification.errors import UserError, WaitTimeout
from verification.load.localapp import free_port, wait_ready
from verification.run import Background


def test_a_process_that_exits_before_it_is_ready_fails_at_once_with_its_code_and_log(tmp_path: Path) -> None:
    process = Background("broken", ["sh", "-c", "echo cannot bind; exit 3"], tmp_path / "broken.log").start()
    started = time.monotonic()
    with pytest.raises(UserError, match=r"^broken exited 3 at start; log: cannot bind$"):
        wait_ready(process, f"http://127.0.0.1:{free_port()}/readyz", timeout=30)
    assert time.monotonic() - started < 10  # not the whole timeout


def test_a_process_that_never_answers_times_out_naming_the_url(tmp_path: Path) -> None:
    process = Background("silent", ["sleep", "30"], tmp_path / "silent.log").start()
    url = f"http://127.0.0.1:{free_port()}/readyz"
    try:
        with pytest.raises(WaitTimeout, match=f"silent ready at {url}"):
            wait_ready(process, url, timeout=1)
    finally:
        process.stop()
