"""The process's peak resident memory, measured so that a child process reports its own.

`ru_maxrss` survives fork and exec on Linux: a child started with multiprocessing's "spawn" reports
the parent's high-water mark if that was higher. `VmHWM` in /proc/self/status belongs to the
process's current memory map, so after exec it is the child's own peak.
"""

from __future__ import annotations

import resource
from pathlib import Path

__all__ = ["peak_rss_mib"]


def peak_rss_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
