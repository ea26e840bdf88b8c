"""Several runs, one output folder: a claim file per mesh, and the options the folder was made with.

``DIR/.claims/<key>.claim`` is created with ``O_CREAT | O_EXCL`` (atomic on local file systems, tmpfs
and NFSv3+) before a mesh is rendered, and holds the owner's host, pid and run id; the owner touches
its claims every :data:`HEARTBEAT_SECONDS` and removes each once the mesh is in the index (or in
failures.jsonl).  A claim whose owner is gone (same host: the pid is not alive; another host: no
heartbeat for ``stale_seconds``) is taken over with one rename, which only one run can win.

``DIR/dataset.json`` records the render options of the first run; a run with other options on the
same DIR is refused (the options are part of the dataset).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import threading
import time
import uuid

from ..errors import DepthViewsError
from ..options import RenderOptions
from .shard_store import STALE_SECONDS, owner_gone

CLAIMS_FOLDER = ".claims"
DATASET_FILE = "dataset.json"
HEARTBEAT_SECONDS = 20.0
NOT_CONTENT = ("device",)  # options that do not change what is written
RENAMED_OPTIONS = {"opaque_depth": ("keep_transparency", lambda opaque: not opaque), "pinhole": ("intrinsics", None)}
"""Options a dataset.json of an earlier version records under their old names: new name, value mapping."""


def options_record(options: RenderOptions) -> dict:
    record = {k: v for k, v in dataclasses.asdict(options).items() if k not in NOT_CONTENT}
    return json.loads(json.dumps(record))   # tuples -> lists, as read back


def check_dataset_options(out_root: str, options: RenderOptions) -> None:
    """Record ``options`` in ``DIR/dataset.json``, or refuse them if the folder was made with others."""
    path = os.path.join(out_root, DATASET_FILE)
    wanted = options_record(options)
    if not os.path.exists(path):
        temporary = f"{path}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            with open(temporary, "w", encoding="utf-8") as stream:
                json.dump({"format": "depth_views.dataset", "options": wanted}, stream, indent=1)
                stream.write("\n")
            try:
                os.link(temporary, path)   # the first run wins; a second one compares below
            except FileExistsError:
                pass
        except OSError as error:
            raise DepthViewsError(f"{path}: cannot write ({error.strerror or error})") from None
        finally:
            try:
                os.remove(temporary)
            except OSError:
                pass
    try:
        with open(path, encoding="utf-8") as stream:
            recorded = dict(json.load(stream).get("options", {}))
    except (OSError, ValueError, AttributeError, TypeError) as error:
        raise DepthViewsError(f"{path}: unreadable ({error}); it records the options of this output folder") from None
    for old, (new, mapping) in RENAMED_OPTIONS.items():
        if old in recorded and new not in recorded:
            value = recorded.pop(old)
            recorded[new] = mapping(value) if mapping and value is not None else value
    differences = [f"{key}: {recorded.get(key)!r} here, {value!r} now" for key, value in wanted.items()
                   if key in recorded and recorded[key] != value]
    if differences:
        raise DepthViewsError(f"{out_root} was rendered with other options ({'; '.join(differences[:3])}); "
                              "the options are part of the dataset: use another --out")


class Claims:
    """This run's claims in ``DIR/.claims``; a thread keeps their heartbeat while the run lives."""

    def __init__(self, out_root: str, *, stale_seconds: float = STALE_SECONDS,
                 heartbeat_seconds: float = HEARTBEAT_SECONDS):
        self.folder = os.path.join(out_root, CLAIMS_FOLDER)
        self.stale_seconds, self.heartbeat_seconds = stale_seconds, heartbeat_seconds
        self.host, self.pid, self.run = platform.node(), os.getpid(), uuid.uuid4().hex
        self.held: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        try:
            os.makedirs(self.folder, exist_ok=True)
        except OSError as error:
            raise DepthViewsError(f"{self.folder}: cannot create ({error.strerror})") from None
        self._thread = threading.Thread(target=self._beat, daemon=True)
        self._thread.start()

    def path(self, name: str) -> str:
        return os.path.join(self.folder, hashlib.sha1(name.encode("utf-8")).hexdigest()[:24] + ".claim")

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_seconds):
            with self._lock:
                paths = list(self.held.values())
            for path in paths:
                try:
                    os.utime(path)
                except OSError:
                    pass

    def _create(self, name: str, path: str) -> bool:
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        except FileNotFoundError:   # another run that ended removed the empty claims folder
            os.makedirs(self.folder, exist_ok=True)
            return self._create(name, path)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump({"name": name, "host": self.host, "pid": self.pid, "run": self.run,
                       "time": time.time()}, stream)
        with self._lock:
            self.held[name] = path
        return True

    def owner(self, path: str) -> dict | None:
        try:
            with open(path, encoding="utf-8") as stream:
                owner = json.load(stream)
            owner["mtime"] = os.path.getmtime(path)
            return owner
        except (OSError, ValueError):
            return None

    def take(self, name: str) -> dict | None:
        """Claim ``name``: None when this run holds it now, else the live owner's record."""
        path = self.path(name)
        for _ in range(3):
            if self._create(name, path):
                return None
            owner = self.owner(path)
            if owner is None:
                try:   # unreadable: a claim torn by a crash mid-write, or just removed
                    if time.time() - os.path.getmtime(path) > self.heartbeat_seconds:
                        os.remove(path)
                except OSError:
                    pass
                continue
            if owner.get("run") == self.run:
                return None
            if not owner_gone(owner.get("host", ""), int(owner.get("pid", 0)), owner["mtime"], self.stale_seconds):
                return owner
            taken = f"{path}.{self.run}.stale"
            try:
                os.rename(path, taken)   # one run wins the take-over
            except OSError:
                continue
            if (self.owner(taken) or {}).get("run") != owner.get("run"):
                try:   # the claim was renewed between our look and the rename: give it back
                    os.link(taken, path)
                except OSError:
                    pass
                os.remove(taken)
                continue
            os.remove(taken)
        return self.owner(path) or {"host": "?", "pid": 0}

    def release(self, name: str) -> None:
        with self._lock:
            path = self.held.pop(name, None)
        if path and (self.owner(path) or {}).get("run") == self.run:
            try:
                os.remove(path)
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        for name in list(self.held):
            self.release(name)
        try:
            os.rmdir(self.folder)
        except OSError:
            pass
