"""Several runs, one output folder: a claim file per mesh, and the options the folder was made with.

``DIR/.claims/<key>.claim`` is created with ``O_CREAT | O_EXCL`` (atomic on local file systems, tmpfs
and NFSv3+) before a mesh is rendered, and holds the owner's host, pid and run id; the owner touches
its claims every :data:`HEARTBEAT_SECONDS` and removes each once the mesh is in the index (or in
failures.jsonl).  A claim whose owner is gone (same host: the pid is not alive; another host: no
heartbeat for ``stale_seconds``) is taken over with one rename, which only one run can win.  Who an
owner is, how a claim file names it and when it is gone: :mod:`depth_views.outputs.ownership`.

``DIR/dataset.json`` records the render options of the first run; a run with other options on the
same DIR is refused (the options are part of the dataset).

``DIR/.runs/`` tells ``depth-views status`` what DIR is meant to hold and who is working on it:

- ``inputs-<hash>.json`` (kept): what a run was asked to render, written once per distinct request:
  ``{"sources": [absolute SOURCE, ...], "part": [K, N] or null}`` (the ``render`` command, which
  names its inputs itself: ``{"inputs": [[path, name], ...]}``);
- ``run-<run id>.json`` (while the run lives): its host, pid, run id, part and start time; the run's
  heartbeat keeps it fresh and the run removes it when it ends.  One a killed run left is removed by
  the next run once its owner is gone (the rule of the claims).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
import uuid

from ..cameras.atomic_write import write_json_atomic
from ..errors import DepthViewsError
from ..options import RenderOptions
from ..outputs.ownership import HEARTBEAT_SECONDS, STALE_SECONDS, Heartbeat, Owner, claim_owner
from .inputs import BatchInput

CLAIMS_FOLDER = ".claims"
RUNS_FOLDER = ".runs"
DATASET_FILE = "dataset.json"
NOT_CONTENT = ("device",)  # options that do not change what is written
RENAMED_OPTIONS = {"opaque_depth": ("keep_transparency", lambda opaque: not opaque), "pinhole": ("intrinsics", None)}
"""Options a dataset.json of an earlier version records under their old names: new name, value mapping."""


def options_record(options: RenderOptions) -> dict:
    record = {k: v for k, v in dataclasses.asdict(options).items() if k not in NOT_CONTENT}
    return json.loads(json.dumps(record))   # tuples -> lists, as read back


def _write_once(path: str, document: dict) -> bool:
    """Write JSON ``document`` to ``path`` unless the file exists (the first writer wins, atomically);
    True when this call wrote it."""
    if os.path.exists(path):
        return False
    temporary = f"{path}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        with open(temporary, "w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=1)
            stream.write("\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    except OSError as error:
        raise DepthViewsError(f"{path}: cannot write ({error.strerror or error})") from None
    finally:
        try:
            os.remove(temporary)
        except OSError:
            pass


def read_json(path: str) -> dict | None:
    """The JSON object in ``path`` plus its ``mtime``; None when it is gone, torn or not an object."""
    try:
        with open(path, encoding="utf-8") as stream:
            document = json.load(stream)
        if not isinstance(document, dict):
            return None
        document["mtime"] = os.path.getmtime(path)
        return document
    except (OSError, ValueError):
        return None


def check_dataset_options(out_root: str, options: RenderOptions) -> bool:
    """Record ``options`` in ``DIR/dataset.json``, or refuse them if the folder was made with others;
    True when this call made the record (a new dataset)."""
    path = os.path.join(out_root, DATASET_FILE)
    wanted = options_record(options)
    created = _write_once(path, {"format": "depth_views.dataset", "options": wanted})   # a second run compares below
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
    return created


def claim_path(out_root: str, name: str) -> str:
    """``DIR/.claims/<key>.claim``, the claim file of mesh ``name``."""
    return os.path.join(out_root, CLAIMS_FOLDER, hashlib.sha1(name.encode("utf-8")).hexdigest()[:24] + ".claim")


def inputs_request(sources) -> dict:
    """What a run is asked to render, as ``DIR/.runs`` records it: ``{"sources": [absolute SOURCE, ...]}``
    (folders, globs, list files, mesh files), or ``{"inputs": [[path, name], ...]}`` for
    :class:`~.inputs.BatchInput` items that already have their names."""
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    sources = list(sources)
    if sources and all(isinstance(s, BatchInput) for s in sources):
        return {"inputs": [[s.path, s.name] for s in sources]}
    return {"sources": [os.path.abspath(os.path.expanduser(os.fspath(s))) for s in sources]}


def record_inputs(out_root: str, request: dict, part: tuple[int, int] | None) -> str:
    """Record ``request`` (:func:`inputs_request`) and ``part`` in ``DIR/.runs`` (once per distinct
    request and part); return the record's path."""
    key = hashlib.sha1(json.dumps(request, sort_keys=True).encode("utf-8")).hexdigest()[:16]
    suffix = f"-part-{part[0]}-of-{part[1]}" if part and part[1] > 1 else ""
    folder = os.path.join(out_root, RUNS_FOLDER)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise DepthViewsError(f"{folder}: cannot create ({error.strerror})") from None
    path = os.path.join(folder, f"inputs-{key}{suffix}.json")
    _write_once(path, {"format": "depth_views.inputs", **request, "part": list(part) if part else None})
    return path


def _records(folder: str, prefix: str, suffix: str) -> list[dict]:
    """The JSON records (plus ``mtime``) of ``folder``'s files named ``prefix...suffix``, in name order;
    torn or vanished files are left out."""
    try:
        names = sorted(n for n in os.listdir(folder) if n.startswith(prefix) and n.endswith(suffix))
    except OSError:
        return []
    return [r for r in (read_json(os.path.join(folder, n)) for n in names) if r is not None]


def record_gone(record: dict, stale_seconds: float = STALE_SECONDS) -> bool:
    """Whether the run a claim or run ``record`` (with its ``mtime``) names is gone (same host: its process
    is not alive; another host: no heartbeat for ``stale_seconds``); a record naming no owner is."""
    owner = claim_owner(record)
    return owner is None or owner.gone(record["mtime"], stale_seconds)


def read_input_records(out_root: str) -> list[dict]:
    """Every request recorded in ``DIR/.runs`` (see :func:`record_inputs`), in file name order."""
    return [r for r in _records(os.path.join(out_root, RUNS_FOLDER), "inputs-", ".json")
            if isinstance(r.get("sources", r.get("inputs")), list)]


def read_runs(out_root: str, stale_seconds: float = STALE_SECONDS) -> list[dict]:
    """The run records of ``DIR/.runs`` (host, pid, run, part, started, mtime), each with ``gone``
    (:func:`record_gone`)."""
    runs = _records(os.path.join(out_root, RUNS_FOLDER), "run-", ".json")
    for record in runs:
        record["gone"] = record_gone(record, stale_seconds)
    return runs


def read_claims(out_root: str, stale_seconds: float = STALE_SECONDS) -> list[dict]:
    """The claims in ``DIR/.claims``: each claim file's record (name, host, pid, run, time) plus its
    ``mtime`` (the last heartbeat) and ``gone`` (:func:`record_gone`); torn files are left out."""
    claims = [r for r in _records(os.path.join(out_root, CLAIMS_FOLDER), "", ".claim")
              if isinstance(r.get("name"), str)]
    for record in claims:
        record["gone"] = record_gone(record, stale_seconds)
    return claims


def forget_dataset_options(out_root: str) -> None:
    """Remove ``DIR/dataset.json`` again: for a run refused before it rendered anything into a new DIR,
    whose options must not pin the folder for the next run."""
    try:
        os.remove(os.path.join(out_root, DATASET_FILE))
    except OSError:
        pass


class Claims:
    """This run's claims in ``DIR/.claims``, and its record in ``DIR/.runs``; a thread keeps their
    heartbeat while the run lives."""

    def __init__(self, out_root: str, *, stale_seconds: float = STALE_SECONDS,
                 heartbeat_seconds: float = HEARTBEAT_SECONDS):
        """The run's claims; :attr:`heartbeat` also keeps other files of the run fresh (its open shard)."""
        self.out_root = out_root
        self.folder = os.path.join(out_root, CLAIMS_FOLDER)
        self.stale_seconds, self.heartbeat_seconds = stale_seconds, heartbeat_seconds
        self.owner_id = Owner.this_run()
        self.host, self.pid, self.run = self.owner_id.host, self.owner_id.pid, self.owner_id.run
        self.held: dict[str, str] = {}
        self.record_path: str | None = None
        self.started = time.time()
        try:
            os.makedirs(self.folder, exist_ok=True)
        except OSError as error:
            raise DepthViewsError(f"{self.folder}: cannot create ({error.strerror})") from None
        self.heartbeat = Heartbeat(heartbeat_seconds)

    def announce(self, **fields) -> None:
        """Write or update this run's record ``DIR/.runs/run-<run id>.json``: host, pid, run, started and
        ``fields`` (e.g. ``part``); it lives, and its heartbeat with it, until :meth:`close`."""
        if self.record_path is None:
            for record in read_runs(self.out_root, self.stale_seconds):   # the records of killed runs
                if record["gone"]:
                    try:
                        os.remove(os.path.join(self.out_root, RUNS_FOLDER, f"run-{record.get('run')}.json"))
                    except OSError:
                        pass
            folder = os.path.join(self.out_root, RUNS_FOLDER)
            try:
                os.makedirs(folder, exist_ok=True)
            except OSError as error:
                raise DepthViewsError(f"{folder}: cannot create ({error.strerror})") from None
            self.record_path = os.path.join(folder, f"run-{self.run}.json")
            self.heartbeat.add(self.record_path)
        write_json_atomic(self.record_path, {"host": self.host, "pid": self.pid, "run": self.run,
                                            "started": self.started, **fields})

    def path(self, name: str) -> str:
        return claim_path(self.out_root, name)

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
        return read_json(path)

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
            if not record_gone(owner, self.stale_seconds):
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
        if self.record_path is not None:
            try:
                os.remove(self.record_path)
            except OSError:
                pass
