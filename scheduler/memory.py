"""Keeping the C heap from holding what a long catch-up freed (glibc; elsewhere these do nothing).

A catch-up day of a big plan renders bundles of 150 items: strings and email bytes of one to a few
megabytes each, made, written, read back and sent, then freed. glibc serves a block that size from its
heap once a freed one has raised its mmap threshold (the threshold follows the largest block freed, up to
32 MB), and the heap cannot shrink past the small live blocks allocated after it. Measured on a year's
catch-up of 10,000 tasks (bench/bench_streams.py): 150-200 MB free inside the heaps beside 40-90 MB in use,
the peak RSS 335 MB; with big blocks mapped on their own 270 MB.
"""

from __future__ import annotations

import ctypes
import logging
from functools import cache

log = logging.getLogger("nhacviec.pass")

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
BIG_BLOCK = 256 * 1024  # blocks from this size up are mapped on their own and unmapped when freed


@cache
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt, libc.malloc_trim  # noqa: B018  # glibc's, or not glibc
    except (AttributeError, OSError):
        return None
    return libc


def map_big_blocks() -> bool:
    """From now on, blocks of :data:`BIG_BLOCK` bytes or more are mapped on their own (returned to the
    system when freed) instead of growing the heap; this also stops glibc raising the threshold by itself.
    False where it is not glibc."""
    libc = _libc()
    if libc is None:
        return False
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(libc.mallopt(M_MMAP_THRESHOLD, BIG_BLOCK))


def release_freed_memory() -> bool:
    """Give back to the system the whole pages the heaps have free (glibc's ``malloc_trim``)."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    libc.malloc_trim(0)
    return True
