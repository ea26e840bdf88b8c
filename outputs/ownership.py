"""Who owns a temporary shard or a claim in an output folder, and when that owner is gone (pure Python).

An owner is one run: its host name, process id and run id (random hex, new per run).  Several runs,
on one machine or many, may share a DIR; a file an owner left behind (a ``kill -9``, a power cut) is
cleaned up or taken over by another run once the owner is gone:

- same host: the owner's process is not alive;
- another host: the file was not touched for :data:`STALE_SECONDS` (its owner's :class:`Heartbeat`
  touches it every :data:`HEARTBEAT_SECONDS` while the run lives).

Where the owner is written (these formats are read back from runs of older versions too):

- a temporary shard's file name, ``.tmp-<host>-<pid>-<8 hex>.tar`` (the host may hold dashes; the
  run id is not in the name): :meth:`Owner.temporary_name`, :func:`temporary_owner`;
- a claim file, JSON ``{"name", "host", "pid", "run", "time"}``: :meth:`Owner.claim_record`,
  :func:`claim_owner`.
"""

from __future__ import annotations

import os
import platform
import threading
import time
import uuid
from dataclasses import dataclass, field

STALE_SECONDS = 600.0
HEARTBEAT_SECONDS = 20.0


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (a process of another user counts; pid <= 0 never)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:
        return False
    return True


@dataclass(frozen=True)
class Owner:
    """One run: ``host`` (``platform.node()``), ``pid``, ``run`` (hex; "" where the encoding has none)."""

    host: str
    pid: int
    run: str = ""

    @classmethod
    def this_run(cls) -> Owner:
        """This process, with a new run id."""
        return cls(platform.node(), os.getpid(), uuid.uuid4().hex)

    def temporary_name(self, prefix: str, suffix: str) -> str:
        """A temporary file name that names this owner: ``<prefix><host>-<pid>-<8 hex><suffix>``."""
        return f"{prefix}{self.host}-{self.pid}-{uuid.uuid4().hex[:8]}{suffix}"

    def claim_record(self, name: str) -> dict:
        """What a claim file on ``name`` holds."""
        return {"name": name, "host": self.host, "pid": self.pid, "run": self.run, "time": time.time()}

    def gone(self, mtime: float, stale_seconds: float = STALE_SECONDS) -> bool:
        """Whether this owner of a file last touched at ``mtime`` (s since the epoch) is gone: on this
        host, its process is not alive; on another host, the file is older than ``stale_seconds``."""
        if self.host == platform.node():
            return not pid_alive(self.pid)
        return time.time() - mtime > stale_seconds


def temporary_owner(file_name: str, prefix: str, suffix: str) -> Owner | None:
    """The owner a :meth:`Owner.temporary_name` names; None for any other name."""
    if not (file_name.startswith(prefix) and file_name.endswith(suffix)) or len(file_name) <= len(prefix + suffix):
        return None
    parts = file_name[len(prefix):len(file_name) - len(suffix)].rsplit("-", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return Owner(parts[0], int(parts[1]))


def remove_gone_temporaries(folder: str, prefix: str, suffix: str, remove) -> int:
    """Delete, with ``remove(path)``, the entries of ``folder`` whose :meth:`Owner.temporary_name` (with
    ``prefix`` and ``suffix``) names an owner that is gone; return how many.  Entries that vanish or
    cannot be removed meanwhile are skipped."""
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    removed = 0
    for name in names:
        owner = temporary_owner(name, prefix, suffix)
        if owner is None:
            continue
        path = os.path.join(folder, name)
        try:
            if owner.gone(os.path.getmtime(path)):
                remove(path)
                removed += 1
        except OSError:
            continue
    return removed


def claim_owner(record) -> Owner | None:
    """The owner a claim file's JSON ``record`` names (as written by this or an older version); None
    when it names none (not an object, no usable pid)."""
    if not isinstance(record, dict):
        return None
    try:
        pid = int(record.get("pid", 0))
    except (TypeError, ValueError):
        return None
    return Owner(str(record.get("host", "")), pid, str(record.get("run") or ""))


@dataclass(eq=False)
class Heartbeat:
    """Touches the files of a run every ``seconds`` while it lives (a thread), so that runs on other
    hosts see their owner alive; :meth:`close` stops it."""

    seconds: float = HEARTBEAT_SECONDS
    paths: set = field(default_factory=set)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)
        self._thread.start()

    def add(self, path: str) -> None:
        with self._lock:
            self.paths.add(path)

    def discard(self, path: str) -> None:
        with self._lock:
            self.paths.discard(path)

    def touch(self) -> None:
        """Touch every file now (those that are gone are skipped)."""
        with self._lock:
            paths = list(self.paths)
        for path in paths:
            try:
                os.utime(path)
            except OSError:
                pass

    def _beat(self) -> None:
        while not self._stop.wait(self.seconds):
            self.touch()

    def close(self) -> None:
        self._stop.set()
