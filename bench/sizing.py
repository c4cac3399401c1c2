"""Right-sizing: the same batch at several memory sizes, each with its share of a CPU, priced in
GB-seconds.

FunctionGraph gives a function CPU in proportion to its memory (``RUNTIME_CPU``); the ratio is
not published, so it is a parameter: ``--core-at-mb`` (default 2048: a whole core at 2 GB, half a
core at 1 GB, an eighth at 256 MB). Each size runs the measured child on one CPU under a duty
cycle (:class:`bench.support.DutyCycle`) at that share. The bill is memory x duration:
``GB-s per 1000 messages = memory_GB x wall_s x 1000 / messages``. The recommended size is the
cheapest whose 1000-message batch ends within the function's timeout minus its safety margin (the
template's ``timeout`` of change_request); sizes within 5 % of the cheapest count as equally cheap
and the smallest of them is recommended (a small, latency-bound batch costs less on less memory).
"""

from __future__ import annotations

from .support import LocalCloudProcess, Workdir
from .throughput import run_batch
from .workload import Fleet, Message

__all__ = ["run_memory_sweep", "SIZES"]

SIZES = (128, 256, 512, 1024, 2048)


def run_memory_sweep(
    work: Workdir,
    cloud: LocalCloudProcess,
    fleet: Fleet,
    messages: list[Message],
    *,
    sizes: tuple[int, ...] = SIZES,
    core_at_mb: int = 2048,
    timeout_s: float = 300.0,
    margin_s: float = 1.5,
    concurrency: int = 16,
    rss_mb: float | None = None,
) -> dict:
    """``rss_mb``: the peak RSS of the full-size batch (the sweep's own batches are smaller)."""
    rows = []
    n = len(messages)
    for memory in sizes:
        share = min(1.0, memory / core_at_mb)
        run = run_batch(work, cloud, fleet, messages, concurrency=concurrency, cpu_share=share)
        wall_1000 = run["wall_s"] * 1000 / n
        rows.append(
            {
                "memory_mb": memory,
                "cpu_share": round(share, 4),
                "messages": n,
                "messages_per_s": run["messages_per_s"],
                "cpu_ms_per_message": run["cpu_ms_per_message"],
                "wall_s_per_1000": round(wall_1000, 2),
                "gb_s_per_1000": round(memory / 1024 * wall_1000, 2),
                "fits_timeout": wall_1000 <= timeout_s - margin_s,
                "peak_rss_mb": run["peak_rss_mb"],
                "fits_memory": (rss_mb or run["peak_rss_mb"]) < memory,
                "outcomes": run["outcomes"],
            }
        )
    fitting = [r for r in rows if r["fits_timeout"] and r["fits_memory"]]
    cheapest = None
    if fitting:  # within 5 % of the cheapest is a tie (noise): the smaller size wins (small batches cost less)
        lowest = min(r["gb_s_per_1000"] for r in fitting)
        cheapest = min((r for r in fitting if r["gb_s_per_1000"] <= lowest * 1.05), key=lambda r: r["memory_mb"])
    return {
        "core_at_mb": core_at_mb,
        "timeout_s": timeout_s,
        "rows": rows,
        "cheapest_mb": cheapest["memory_mb"] if cheapest else None,
    }
