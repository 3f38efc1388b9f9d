"""Load generator: open-model constant arrival rate, every request logged, summary and timeline plot.

from verification.load import LoadConfig, background

with background(LoadConfig(url, rate=300, duration=20), out_dir) as load:
    ...
    load.mark("switch")
result = load.result  # records, events, summary(); files written to out_dir
"""

from verification.load.generator import LoadConfig, LoadResult, LoadRun, background, run_load
from verification.load.records import Event, Record

__all__ = ["Event", "LoadConfig", "LoadResult", "LoadRun", "Record", "background", "run_load"]
