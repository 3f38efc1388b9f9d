"""Build the runc wrapper (platform/kind/runc-wrapper): a static Go binary, cached by its inputs.

The same binary serves the host's Docker engine and the kind node's containerd; only the
path of the real runc it calls differs (stamped at link time).
"""

import hashlib
import shutil
from pathlib import Path

from verification.cluster import gobuild
from verification.cluster.image_cache import folder_digest
from verification.errors import UserError
from verification.paths import PLATFORM, cache_dir

SOURCE = PLATFORM / "kind" / "runc-wrapper"
# Where the node image keeps the real runc; the wrapper takes runc's usual place.
NODE_REAL_RUNC = "/usr/local/sbin/runc.real"


def cache_key(real_runc: str) -> str:
    return hashlib.sha256(f"{folder_digest(SOURCE)}\0{real_runc}".encode()).hexdigest()[:16]


def build(real_runc: str) -> Path:
    """Path of a wrapper binary that calls `real_runc`; built once per source and target."""
    out = cache_dir() / "runc-wrapper" / cache_key(real_runc) / "runc-wrapper"
    if not out.exists() and not shutil.which("go"):
        raise UserError("cannot build the runc wrapper: the Go toolchain is missing (apt-get install golang)")
    what = f"build runc wrapper (real runc: {real_runc})"
    return gobuild.build_static(SOURCE, out, ldflags=f"-X main.realRunc={real_runc}", what=what)
