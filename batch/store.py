"""The batch output folder: finished meshes, partial work, index.jsonl and failures.jsonl (pure Python).

Layout of ``DIR`` (``--out``)::

    DIR/<name>/cameras.json ...      one finished mesh (whatever formats were asked for)
    DIR/.partial/<key>/              a mesh being rendered; moved to DIR/<name> in one rename
    DIR/index.jsonl                  one line per finished mesh (index.part-K-of-N.jsonl per --part)
    DIR/failures.jsonl               one line per failed mesh (failures.part-K-of-N.jsonl per --part)

A mesh is complete when ``DIR/<name>/cameras.json`` exists: the renderer writes cameras.json after
every view, inside the partial folder, and the folder only appears under its name when everything
in it is on disk.  Each journal has one writer (the run or part that owns it); a line torn by a
kill is dropped, and the file rewritten, when the next run starts.
"""

from __future__ import annotations

import datetime
import glob
import hashlib
import json
import os
import shutil
import tempfile

from ..cameras.cameras_json import CAMERAS_FILE, read_cameras_document
from ..errors import DepthViewsError

PARTIAL_FOLDER = ".partial"
INDEX_STEM, FAILURES_STEM = "index", "failures"


def journal_path(out_root: str, stem: str, part: tuple[int, int] | None) -> str:
    """``DIR/index.jsonl``, or ``DIR/index.part-K-of-N.jsonl`` for ``--part`` (K, N) with N > 1."""
    suffix = f".part-{part[0]}-of-{part[1]}" if part and part[1] > 1 else ""
    return os.path.join(out_root, f"{stem}{suffix}.jsonl")


def final_folder(out_root: str, name: str) -> str:
    """Where mesh ``name`` ends up; raises :class:`DepthViewsError` if that would leave ``out_root``."""
    root = os.path.abspath(out_root)
    folder = os.path.normpath(os.path.join(root, *name.split("/")))
    if os.path.commonpath([root, folder]) != root or folder == root:
        raise DepthViewsError(f"{name}: output name would write outside {root}")
    return folder


def partial_folder(out_root: str, name: str) -> str:
    """The private folder mesh ``name`` is rendered into before it is moved into place."""
    key = hashlib.sha1(name.encode("utf-8")).hexdigest()[:24]
    return os.path.join(os.path.abspath(out_root), PARTIAL_FOLDER, key)


def is_complete(out_root: str, name: str) -> bool:
    return os.path.isfile(os.path.join(final_folder(out_root, name), CAMERAS_FILE))


def discard_partial(out_root: str, name: str) -> None:
    """Remove what a killed, crashed or failed render of ``name`` left in the partial folder."""
    partial = partial_folder(out_root, name)
    for leftover in (partial, partial + ".old"):
        shutil.rmtree(leftover, ignore_errors=True)
    try:
        os.remove(partial + ".tar")   # a WebDataset mesh not yet packed into a shard
    except OSError:
        pass


def move_into_place(partial: str, out_root: str, name: str) -> str:
    """Move the finished ``partial`` folder to ``DIR/<name>`` atomically; return the final folder.

    An incomplete folder already there (no cameras.json, e.g. from an interrupted ``render``) is
    swapped out and deleted; a kill between the two renames only leaves the mesh to render again.
    """
    final = final_folder(out_root, name)
    if not os.path.isfile(os.path.join(partial, CAMERAS_FILE)):
        raise DepthViewsError(f"{partial}: no {CAMERAS_FILE} was written; the render is not complete")
    os.makedirs(os.path.dirname(final), exist_ok=True)
    if os.path.lexists(final):
        if os.path.isfile(os.path.join(final, CAMERAS_FILE)):
            raise DepthViewsError(f"{final}: already holds a finished render; not overwriting it")
        old = partial + ".old"
        shutil.rmtree(old, ignore_errors=True)
        os.rename(final, old)
        os.rename(partial, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(partial, final)
    return final


def remove_empty_partial_root(out_root: str) -> None:
    try:
        os.rmdir(os.path.join(out_root, PARTIAL_FOLDER))
    except OSError:
        pass


def read_jsonl(path: str) -> tuple[list[dict], bool]:
    """The records of a JSON-lines file and whether it was clean (no torn or invalid line)."""
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except FileNotFoundError:
        return [], True
    records, clean = [], data.endswith(b"\n") or not data
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            clean = False
            continue
        if isinstance(record, dict) and "name" in record:
            records.append(record)
        else:
            clean = False
    return records, clean


def journal_files(out_root: str, stem: str) -> list[str]:
    """Every journal ``stem`` of DIR: the run's and each part's (``.shard-K-of-N``: what runs before
    ``--part`` was named so wrote)."""
    folder = glob.escape(out_root)
    return sorted(glob.glob(os.path.join(folder, f"{stem}.jsonl"))
                  + glob.glob(os.path.join(folder, f"{stem}.part-*-of-*.jsonl"))
                  + glob.glob(os.path.join(folder, f"{stem}.shard-*-of-*.jsonl")))


def read_index(out_root: str) -> list[dict]:
    """Every finished mesh listed in ``DIR/index*.jsonl`` (all parts), once per name.

    Each record has ``name``, ``path`` (the input), ``folder`` (relative to DIR) or ``shard`` and
    ``keys`` (WebDataset layout), and :func:`cameras_fields`: ``views``, ``object_to_world`` (the 4x4
    applied with ``--normalize``, or null), ``center``, ``radius``, ``coverage_min`` ... (lines written
    before issue 21 say ``normalization``; they are read as ``object_to_world``).
    """
    entries: dict[str, dict] = {}
    for path in journal_files(out_root, INDEX_STEM):
        for record in read_jsonl(path)[0]:
            if "normalization" in record and "object_to_world" not in record:
                record["object_to_world"] = record.pop("normalization")
            entries.setdefault(record["name"], record)
    return list(entries.values())


def read_failures(out_root: str, done=None) -> list[dict]:
    """Every failure in ``DIR/failures*.jsonl`` (all parts) whose mesh is not finished since
    (``done``: the names finished in the WebDataset layout; None: the folder layout)."""
    failures: dict[str, dict] = {}
    for path in journal_files(out_root, FAILURES_STEM):
        for record in read_jsonl(path)[0]:
            failures[record["name"]] = record
    if done is not None:
        return [r for name, r in failures.items() if name not in done]
    return [r for name, r in failures.items() if not is_complete(out_root, name)]


def cameras_fields(cameras: dict) -> dict:
    """What an index record takes from a mesh's cameras.json document (both layouts): ``views``,
    ``object_to_world`` (null when not normalised), ``center``, ``radius``, ``width``, ``height``,
    ``missing_textures``, and from the views' ``coverage`` (fraction of pixels with a surface)
    ``coverage_min``, ``coverage_mean`` and ``empty_views`` (the indices of views with coverage 0;
    left out for a document written before views had a coverage)."""
    views = cameras.get("views", [])
    fields = {"views": len(views), "object_to_world": cameras.get("object_to_world"), "center": cameras.get("center"),
              "radius": cameras.get("radius"), "width": cameras.get("width"), "height": cameras.get("height"),
              "missing_textures": cameras.get("missing_textures", [])}
    coverage = [view["coverage"] for view in views if "coverage" in view]
    if views and len(coverage) == len(views):
        fields.update(coverage_min=min(coverage), coverage_mean=sum(coverage) / len(coverage),
                      empty_views=[view["index"] for view in views if view["coverage"] == 0.0])
    return fields


def index_entry(out_root: str, name: str, input_path: str) -> dict:
    """The index.jsonl record of finished mesh ``name``, from its cameras.json."""
    folder = final_folder(out_root, name)
    cameras = read_cameras_document(os.path.join(folder, CAMERAS_FILE))
    return {"name": name, "path": input_path, "folder": name, **cameras_fields(cameras)}


def failure_entry(name: str, input_path: str, stage: str, error: str) -> dict:
    """A failures.jsonl record; ``stage`` is where it failed (import, check, render, write, timeout, crash)."""
    return {"name": name, "path": input_path, "stage": stage, "error": " ".join(error.split()),
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


class Journal:
    """An append-only JSON-lines file; each record is one ``write`` of one line with ``O_APPEND``,
    the file opened anew for each, so that runs sharing DIR still append to the same file after one
    of them rewrote it (a line lost in such a race is restored from the finished folders or shards
    when the next run starts)."""

    def __init__(self, path: str):
        self.path, self._fd = path, None
        self.records, clean = read_jsonl(path)
        if not clean:  # a kill tore the last line: keep the valid records only
            self.rewrite(self.records)

    def names(self) -> set[str]:
        return {r["name"] for r in self.records}

    def rewrite(self, records: list[dict]) -> None:
        """Replace the file's content by ``records`` atomically."""
        self.close()
        folder = os.path.dirname(self.path)
        handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".jsonl", dir=folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.writelines(json.dumps(r, allow_nan=False) + "\n" for r in records)
            os.replace(temporary, self.path)
        except BaseException:
            if os.path.exists(temporary):
                os.remove(temporary)
            raise
        self.records = list(records)

    def _write(self, data: bytes) -> None:
        handle = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(handle, data)
        finally:
            os.close(handle)

    def append(self, record: dict) -> None:
        self._write((json.dumps(record, allow_nan=False) + "\n").encode("utf-8"))
        self.records.append(record)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
