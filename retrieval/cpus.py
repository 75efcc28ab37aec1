"""CPU counts for sizing thread pools: the CPUs this process may use, and the physical cores among them."""

from __future__ import annotations

import os


def available_cpus() -> int:
    """Logical CPUs this process may run on (its affinity mask where the platform has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def physical_cores() -> int:
    """Physical CPU cores available to this process (hyper-threads share a core's arithmetic units)."""
    available = available_cpus()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as f:
            blocks = f.read().split("\n\n")
        cores = {(b.split("physical id")[1].split("\n")[0], b.split("core id")[1].split("\n")[0]) for b in blocks if "core id" in b}
        if cores:
            return max(1, min(available, len(cores)))
    except (OSError, IndexError):
        pass
    return max(1, available)

