"""Keep memory freed between views inside the process (glibc), so renders stop page-faulting it back.

Every render allocates and frees Cycles' render buffers and the pass copies (megabytes per view).
glibc hands blocks above its mmap threshold straight back to the kernel on ``free``; the next view
then takes a zero-filled page fault on every 4 KiB of the same memory.  At 512x512 that was about
10 % of a depth view's CPU time (``benchmarks/RESULTS.md``).  Raising the mmap threshold to glibc's
maximum and not trimming the heap keeps those blocks for reuse.  The price is that freed memory
stays with the process (its peak RSS does not go down again), which suits a render process but
may not suit an interactive Blender session, so nothing calls this implicitly except the CLI.
"""

from __future__ import annotations

import ctypes
import sys

# mallopt() parameters from glibc's <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_MAX = 32 * 1024 * 1024      # glibc's upper limit on 64-bit systems
TRIM_THRESHOLD = 1024 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Tune glibc's allocator for repeated renders; True when it was applied (Linux + glibc only).

    Process-wide and not undone.  Does nothing (returns False) on other platforms and C libraries.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        if not hasattr(libc, "gnu_get_libc_version"):
            return False                      # not glibc (musl's mallopt does nothing)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
