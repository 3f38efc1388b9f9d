"""Timeline of a load run: requests per second by version, failures, and marked events."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from verification.load.records import Event, Record


@dataclass
class Timeline:
    """Per-bin counts: what the PNG shows, kept apart so tests can check it."""

    bin_s: float
    t: list[float]  # left edge of each bin, seconds since the run's start
    by_version: dict[str, list[float]] = field(default_factory=dict)  # successful requests/s per version
    failed: list[float] = field(default_factory=list)  # failed requests/s
    events: list[tuple[float, str]] = field(default_factory=list)  # (seconds since start, name)


def timeline(
    records: Sequence[Record], events: Sequence[Event], *, start_ns: int, bin_s: float | None = None
) -> Timeline:
    """Bin requests by the time they went on the wire: the same clock as the event marks."""
    last = max([r.started_ns for r in records] + [e.time_ns for e in events] + [start_ns])
    span = (last - start_ns) / 1e9
    bin_s = bin_s or (1.0 if span >= 20 else 0.25)
    n = int(span // bin_s) + 1
    by_version: dict[str, list[float]] = {}
    failed = [0.0] * n
    for r in records:
        i = min(max(int((r.started_ns - start_ns) / 1e9 // bin_s), 0), n - 1)
        if r.failed:
            failed[i] += 1 / bin_s
        else:
            by_version.setdefault(r.version or "none", [0.0] * n)[i] += 1 / bin_s
    marks = [((e.time_ns - start_ns) / 1e9, e.name) for e in events]
    return Timeline(bin_s, [i * bin_s for i in range(n)], by_version, failed, marks)


def plot_timeline(
    records: Sequence[Record], events: Sequence[Event], path: Path, *, start_ns: int, title: str = ""
) -> Timeline:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    data = timeline(records, events, start_ns=start_ns)
    fig, ax = plt.subplots(figsize=(10, 4), dpi=100)
    try:
        for version, series in sorted(data.by_version.items()):
            ax.step(data.t, series, where="post", label=f"version {version}")
        ax.step(data.t, data.failed, where="post", color="red", label="failed")
        for t, name in data.events:
            ax.axvline(t, color="black", linestyle="--", linewidth=1)
            ax.annotate(name, (t, 1), xycoords=("data", "axes fraction"), rotation=90, va="top", ha="right")
        ax.set_xlabel("seconds since start")
        ax.set_ylabel(f"requests/s ({data.bin_s:g} s bins)")
        ax.set_title(f"load timeline {title}".strip())
        ax.legend(loc="lower left")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)
    return data
