"""Linux capability bounding set of this process: is a capability really available?"""

from pathlib import Path

CAP_SYS_RESOURCE = 24


def bounding_set(status_text: str) -> int:
    """The CapBnd mask from the text of /proc/<pid>/status."""
    for line in status_text.splitlines():
        if line.startswith("CapBnd:"):
            return int(line.split(":", 1)[1].strip(), 16)
    raise ValueError("no CapBnd line in process status")


def has_capability(mask: int, bit: int) -> bool:
    return bool(mask >> bit & 1)


def lacks_sys_resource(status_file: Path = Path("/proc/self/status")) -> bool:
    """True in sandboxes like this one: privileged containers and negative oom_score_adj fail."""
    return not has_capability(bounding_set(status_file.read_text()), CAP_SYS_RESOURCE)
