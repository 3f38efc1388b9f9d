"""Capability parsing and the daemon.json rewrite: pure logic, no Docker."""

import pytest

from verification.cluster import capabilities
from verification.cluster.docker import WRAPPER_RUNTIME, daemon_config_with_wrapper

SANDBOX_STATUS = "Name:\tcat\nCapEff:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\n"
LAPTOP_STATUS = "Name:\tcat\nCapBnd:\t000001ffffffffff\n"


def test_sandbox_mask_lacks_exactly_sys_resource() -> None:
    mask = capabilities.bounding_set(SANDBOX_STATUS)
    missing = [bit for bit in range(41) if not capabilities.has_capability(mask, bit)]
    assert missing == [capabilities.CAP_SYS_RESOURCE]


def test_full_mask_has_sys_resource() -> None:
    assert capabilities.has_capability(capabilities.bounding_set(LAPTOP_STATUS), capabilities.CAP_SYS_RESOURCE)


def test_lacks_sys_resource_reads_the_status_file(tmp_path) -> None:
    status = tmp_path / "status"
    status.write_text(SANDBOX_STATUS)
    assert capabilities.lacks_sys_resource(status)
    status.write_text(LAPTOP_STATUS)
    assert not capabilities.lacks_sys_resource(status)


def test_missing_capbnd_line_is_an_error() -> None:
    with pytest.raises(ValueError, match="CapBnd"):
        capabilities.bounding_set("Name:\tx\n")


def test_daemon_config_keeps_other_settings_and_runtimes() -> None:
    existing = {"log-driver": "json-file", "runtimes": {"nvidia": {"path": "/usr/bin/nvidia"}}}
    merged = daemon_config_with_wrapper(existing, "/opt/w")
    assert merged["log-driver"] == "json-file"
    assert merged["runtimes"] == {"nvidia": {"path": "/usr/bin/nvidia"}, WRAPPER_RUNTIME: {"path": "/opt/w"}}
    assert merged["default-runtime"] == WRAPPER_RUNTIME
    assert existing["runtimes"] == {"nvidia": {"path": "/usr/bin/nvidia"}}, "input must not be mutated"


def test_daemon_config_is_idempotent() -> None:
    once = daemon_config_with_wrapper({}, "/opt/w")
    assert daemon_config_with_wrapper(once, "/opt/w") == once
