"""Well-known locations of the repository, independent of the current directory."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PLATFORM = REPO_ROOT / "platform"
MANIFESTS = PLATFORM / "manifests"
INTENT = PLATFORM / "intent"
CHARTS = PLATFORM / "charts"
ENVIRONMENTS = PLATFORM / "environments"
APPS = PLATFORM / "apps"
VERSIONS_FILE = PLATFORM / "versions.yaml"


def artifacts_dir() -> Path:
    """Where every run leaves its evidence; ignored by git."""
    path = Path(os.environ.get("PLATFORM_VERIFY_ARTIFACTS", REPO_ROOT / "artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """User cache for pinned tools and built artifacts: $PLATFORM_VERIFY_CACHE, else
    $XDG_CACHE_HOME/platform-verify, else ~/.cache/platform-verify. CI points it inside the
    project directory, the only place a GitLab `cache:` keeps between jobs."""
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    path = Path(os.environ.get("PLATFORM_VERIFY_CACHE") or base / "platform-verify")
    path.mkdir(parents=True, exist_ok=True)
    return path
