"""Reading a mesh file once: text in chunks that end at line ends, binary memory-mapped.

Every format's guard reads through these, so a file is opened once and read once, holding about
:data:`CHUNK_BYTES` of text at a time (a single longer line is held whole), or mapped for binary
layouts (pages are read as the checks touch them).  Pure Python + numpy.
"""

from __future__ import annotations

import mmap
import os
import warnings

import numpy as np

CHUNK_BYTES = 4 << 20
"""About how many bytes of a text file are held at a time (read at call time: tests shrink it)."""

MAX_COUNT = 2**31 - 1
"""Largest element count a 32-bit importer can hold; larger declared counts crash Blender."""

LINE_BATCH = 200_000
"""Most lines handed to one vectorised parse."""


def file_size(handle) -> int:
    return os.fstat(handle.fileno()).st_size


def mapped(handle):
    """The whole file as a read-only buffer (memory-mapped; empty bytes for an empty file)."""
    return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if file_size(handle) else b""


def text_chunks(handle):
    """The rest of the file in chunks of about :data:`CHUNK_BYTES`, each ending at a line end (the
    last one where the file ends).  Empty chunks are not yielded."""
    pending: list[bytes] = []  # the start of a line not yet ended
    while data := handle.read(CHUNK_BYTES):
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            pending.append(data)
            continue
        yield b"".join([*pending, data[:cut]]) if pending else data[:cut]
        pending = [data[cut:]] if cut < len(data) else []
    if pending:
        yield b"".join(pending)


def line_batches(handle):
    """The non-blank lines of the rest of the file (line ends removed, ``\\r`` kept), in lists of at
    most :data:`LINE_BATCH`."""
    for chunk in text_chunks(handle):
        lines = list(filter(bytes.strip, chunk.split(b"\n")))
        for start in range(0, len(lines), LINE_BATCH):
            yield lines[start:start + LINE_BATCH]


_NOT_BYTES_SPACE = (b"\x1c", b"\x1d", b"\x1e", b"\x1f", b"\x85", b"\xa0")  # white space to numpy, not to bytes.split


def table_or_none(lines, dtype, columns=None, *, spaces_and_tabs=False):
    r"""``lines`` (whitespace-separated numbers) as a 2-D array, or None where they are not a table of
    numbers of ``dtype`` (ragged, a non-number, an overflow).  ``columns``: read only these.

    The fast path of every text format: numpy's C parser.  Where it says no, the caller's exact
    (slower) reading decides, and words the refusal.  Byte lines holding a character that numpy
    takes for white space but ``bytes.split`` does not (``\x1c``-``\x1f``, ``\x85``, ``\xa0``) are
    left to that exact reading too, and so are, with ``spaces_and_tabs``, lines whose values are
    separated by other white space than spaces and tabs (as the ``[ \t]+`` of a line regex needs; a
    ``\r`` may end a line).
    """
    if not lines:
        return None
    if isinstance(lines[0], bytes):
        joined = b"\n".join(lines)
        if any(space in joined for space in _NOT_BYTES_SPACE):
            return None
        if spaces_and_tabs and (b"\x0b" in joined or b"\x0c" in joined or (
                b"\r" in joined and joined.count(b"\r") != joined.count(b"\r\n") + joined.endswith(b"\r"))):
            return None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return np.loadtxt(lines, dtype=dtype, ndmin=2, comments=None, usecols=columns)
        except (ValueError, TypeError, OverflowError, UnicodeError, Warning):
            return None


def count_non_finite_rows(values: np.ndarray) -> int:
    """How many rows of the float array ``values`` (N, k) hold a NaN or ±inf."""
    return int(np.count_nonzero(~np.isfinite(values).all(axis=1)))
