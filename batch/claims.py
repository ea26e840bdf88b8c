"""Several runs, one output folder: a claim file per mesh, and the options the folder was made with.

``DIR/.claims/<key>.claim`` is created with ``O_CREAT | O_EXCL`` (atomic on local file systems, tmpfs
and NFSv3+) before a mesh is rendered, and holds the owner's host, pid and run id; the owner touches
its claims every :data:`HEARTBEAT_SECONDS` and removes each once the mesh is in the index (or in
failures.jsonl).  A claim whose owner is gone (same host: the pid is not alive; another host: no
heartbeat for ``stale_seconds``) is taken over with one rename, which only one run can win.  Who an
owner is, how a claim file names it and when it is gone: :mod:`depth_views.outputs.ownership`.

``DIR/dataset.json`` records the render options of the first run; a run with other options on the
same DIR is refused (the options are part of the dataset).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
import uuid

from ..errors import DepthViewsError
from ..options import RenderOptions
from ..outputs.ownership import HEARTBEAT_SECONDS, STALE_SECONDS, Heartbeat, Owner, claim_owner

CLAIMS_FOLDER = ".claims"
DATASET_FILE = "dataset.json"
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
        """The run's claims; :attr:`heartbeat` also keeps other files of the run fresh (its open shard)."""
        self.folder = os.path.join(out_root, CLAIMS_FOLDER)
        self.stale_seconds, self.heartbeat_seconds = stale_seconds, heartbeat_seconds
        self.owner_id = Owner.this_run()
        self.host, self.pid, self.run = self.owner_id.host, self.owner_id.pid, self.owner_id.run
        self.held: dict[str, str] = {}
        try:
            os.makedirs(self.folder, exist_ok=True)
        except OSError as error:
            raise DepthViewsError(f"{self.folder}: cannot create ({error.strerror})") from None
        self.heartbeat = Heartbeat(heartbeat_seconds)

    def path(self, name: str) -> str:
        return os.path.join(self.folder, hashlib.sha1(name.encode("utf-8")).hexdigest()[:24] + ".claim")

    def _create(self, name: str, path: str) -> bool:
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        except FileNotFoundError:   # another run that ended removed the empty claims folder
            os.makedirs(self.folder, exist_ok=True)
            return self._create(name, path)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(self.owner_id.claim_record(name), stream)
        self.held[name] = path
        self.heartbeat.add(path)
        return True

    def owner(self, path: str) -> dict | None:
        """The claim file's record plus its ``mtime``; None when it is gone or not a JSON object."""
        try:
            with open(path, encoding="utf-8") as stream:
                owner = json.load(stream)
            if not isinstance(owner, dict):
                return None
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
            named = claim_owner(owner)
            if named is not None and not named.gone(owner["mtime"], self.stale_seconds):
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
        path = self.held.pop(name, None)
        if path:
            self.heartbeat.discard(path)
        if path and (self.owner(path) or {}).get("run") == self.run:
            try:
                os.remove(path)
            except OSError:
                pass

    def close(self) -> None:
        self.heartbeat.close()
        for name in list(self.held):
            self.release(name)
        try:
            os.rmdir(self.folder)
        except OSError:
            pass
