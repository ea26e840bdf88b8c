"""Opening camera files safely: regular files only, size-capped, each opened once (pure Python).

A camera file comes from a user or a dataset, so it may be anything: a FIFO or a device (which would
block ``open`` or read forever), a symbolic link loop, a file of gigabytes, JSON nested 100,000 deep.
Every reader goes through :func:`open_regular` / :func:`read_regular` (and :func:`parse_json`), which
refuse such files before reading them, in a DepthViewsError of one line naming the file, and then
read it in bounded time and memory.
"""

from __future__ import annotations

import json
import os
import stat

from .limits import MAX_VIEWS
from ..errors import DepthViewsError

MAX_JSON_CONTAINERS = 32 * MAX_VIEWS
"""JSON objects and arrays in one camera file (a cameras.json view holds about 17)."""
MAX_JSON_VALUES = 128 * MAX_VIEWS
"""JSON values in one camera file, counted by their commas (a cameras.json view holds about 55)."""
MAX_NAME_CHARS = 200
"""Longest name (file, frame, image) shown in a message."""

_FILE_TYPES = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
               (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
               (stat.S_ISSOCK, "a socket"))


def shown(name) -> str:
    """``name`` as it goes into a one-line message: control characters escaped, at most
    :data:`MAX_NAME_CHARS` characters."""
    text = str(name)
    if not text.isprintable():
        text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return text if len(text) <= MAX_NAME_CHARS else text[:MAX_NAME_CHARS] + "..."


def one_line(error: BaseException) -> str:
    """An exception's text on one line (whitespace runs become one space)."""
    return " ".join(str(error).split()) or type(error).__name__


def _size_text(size: int) -> str:
    return f"{size / 2**30:.1f} GiB" if size >= 2**30 else f"{size / 2**20:.1f} MiB"


def camera_path_stat(path: str) -> os.stat_result:
    """``os.stat(path)`` (links followed), or DepthViewsError: no such file, a link loop, no permission."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        raise DepthViewsError(f"{shown(path)}: no such file") from None
    except (OSError, ValueError) as error:  # ELOOP, EACCES, ENAMETOOLONG; ValueError: a NUL in the name
        raise DepthViewsError(f"{shown(path)}: cannot open ({getattr(error, 'strerror', None) or one_line(error)})") \
            from None


def check_regular(path: str, status: os.stat_result, limit: int) -> None:
    """DepthViewsError unless ``status`` is a regular file of at most ``limit`` bytes."""
    if not stat.S_ISREG(status.st_mode):
        kind = next((text for test, text in _FILE_TYPES if test(status.st_mode)), "not a regular file")
        raise DepthViewsError(f"{shown(path)}: is {kind}, not a regular file; a camera file must be a regular file")
    if status.st_size > limit:
        raise DepthViewsError(f"{shown(path)}: is {_size_text(status.st_size)}; camera files over "
                              f"{_size_text(limit)} are refused")


def open_regular(path: str, limit: int):
    """``(stream, size)``: ``path`` opened once for binary reading, after checking (before opening, and
    again on the open file) that it is a regular file of at most ``limit`` bytes.  The caller closes
    ``stream``.  DepthViewsError naming the file otherwise."""
    check_regular(path, camera_path_stat(path), limit)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        raise DepthViewsError(f"{shown(path)}: cannot open ({error.strerror or one_line(error)})") from None
    try:
        status = os.fstat(descriptor)
        check_regular(path, status, limit)  # replaced between the check and the open
        return os.fdopen(descriptor, "rb"), status.st_size
    except BaseException:
        os.close(descriptor)
        raise


def read_regular(path: str, limit: int) -> bytes:
    """All bytes of ``path`` (a regular file of at most ``limit`` bytes, opened once)."""
    stream, size = open_regular(path, limit)
    try:
        with stream:
            data = stream.read(size)   # the size it has: nothing larger is ever allocated
            grew = stream.read(1)
    except OSError as error:
        raise DepthViewsError(f"{shown(path)}: cannot read ({error.strerror or one_line(error)})") from None
    if grew:
        raise DepthViewsError(f"{shown(path)}: changed while being read (it grew past its {size} bytes)")
    return data


def parse_json(data: bytes, path: str):
    """The JSON value of ``data`` (UTF-8/16/32), or DepthViewsError naming ``path``: empty, not JSON, too
    many values for a camera file (:data:`MAX_JSON_CONTAINERS`, :data:`MAX_JSON_VALUES`, counted before
    parsing so memory stays bounded) or nested too deeply."""
    if not data.strip():
        raise DepthViewsError(f"{shown(path)}: cannot read the JSON (the file is empty)")
    containers = data.count(b"{") + data.count(b"[")
    if containers > MAX_JSON_CONTAINERS or data.count(b",") > MAX_JSON_VALUES:
        raise DepthViewsError(f"{shown(path)}: holds more JSON values than a camera file of {MAX_VIEWS} views "
                              f"({containers} objects and arrays; at most {MAX_JSON_CONTAINERS})")
    try:
        return json.loads(data)
    except RecursionError:
        raise DepthViewsError(f"{shown(path)}: cannot read the JSON (nested too deeply)") from None
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, a number of over 4300 digits
        raise DepthViewsError(f"{shown(path)}: cannot read the JSON ({one_line(error)})") from None
