"""A batch output folder in the WebDataset layout: which meshes are done, packing, the index (pure Python).

Layout of ``DIR``::

    DIR/shards/shard-NNNNNN.tar        finished shards (outputs/shards.py says what a sample holds)
    DIR/shards/.tmp-<host>-<pid>-*.tar a shard being written; never read, removed once its run is gone
    DIR/.partial/<key>.tar             one mesh handed from a worker to the run (deleted once packed)
    DIR/index*.jsonl                   one line per mesh: name, path, shard, keys, views, ...

A mesh is done when its index line names a shard that exists with the recorded size.  A shard that
got its final name but whose index lines were lost (a kill between the two) is read back when the
next run starts and its lines are added then, so no mesh is rendered twice.  A finished shard that is
not a complete tar, or whose size is not the recorded one, stops the run with one line naming it.
"""

from __future__ import annotations

import json
import os

from ..errors import DepthViewsError
from ..outputs import shards
from ..outputs.ownership import remove_gone_temporaries
from . import store

def remove_orphan_shards(out_root: str) -> int:
    """Delete the temporary shards of runs that are gone (a kill -9, a full disk); return how many.
    Which run owns one and when it is gone: :mod:`depth_views.outputs.ownership`."""
    return remove_gone_temporaries(os.path.join(out_root, shards.SHARDS_FOLDER), shards.TEMPORARY_PREFIX,
                                   shards.TEMPORARY_SUFFIX, os.remove)


def relative_shard(out_root: str, path: str) -> str:
    return os.path.relpath(path, out_root).replace(os.sep, "/")


def done_meshes(out_root: str, index: store.Journal | None = None) -> dict[str, dict]:
    """Name -> index record of every mesh in a finished shard under ``out_root``.

    Shards without index lines are read (their lines are appended to ``index`` when given).
    Raises :class:`DepthViewsError` for a finished shard that is truncated or corrupt.
    """
    finished = {relative_shard(out_root, p): p for p in shards.finished_shards(out_root)}
    done: dict[str, dict] = {}
    indexed_shards: dict[str, int] = {}
    for record in store.read_index(out_root):
        shard = record.get("shard")
        if shard in finished:
            done.setdefault(record["name"], record)
            indexed_shards[shard] = record.get("shard_bytes", -1)
    for shard, size in indexed_shards.items():
        actual = os.path.getsize(finished[shard])
        if size not in (-1, actual):
            raise DepthViewsError(f"{finished[shard]}: {actual} bytes but the index recorded {size}; the shard "
                                  "was changed or truncated: move it out of the shards folder (its meshes then "
                                  "render again)")
    for shard, path in finished.items():
        if shard in indexed_shards:
            continue
        size = os.path.getsize(path)
        for mesh in shards.shard_meshes(path):
            record = {**mesh_fields(mesh["name"], mesh["path"], mesh["cameras"]), "shard": shard,
                      "shard_bytes": size, "keys": mesh["keys"], "recovered": True}
            if mesh["name"] not in done:
                done[mesh["name"]] = record
                if index is not None:
                    index.append(record)
    return done


class IndexTail:
    """The names in ``DIR/index*.jsonl``, read incrementally: :meth:`refresh` reads only the lines
    appended (by this run or another) since the last call."""

    def __init__(self, out_root: str):
        """Lines already there are not read (:func:`done_meshes` checked them against the shards)."""
        self.out_root, self.names = out_root, set()
        self.offsets = {path: os.path.getsize(path) for path in store.journal_files(out_root, store.INDEX_STEM)}

    def refresh(self) -> set:
        for path in store.journal_files(self.out_root, store.INDEX_STEM):
            offset = self.offsets.get(path, 0)
            try:
                with open(path, "rb") as stream:
                    stream.seek(offset)
                    data = stream.read()
            except OSError:
                continue
            complete = data[:data.rfind(b"\n") + 1]
            self.offsets[path] = offset + len(complete)
            for line in complete.split(b"\n"):
                try:
                    record = json.loads(line) if line.strip() else None
                except ValueError:
                    continue
                if isinstance(record, dict) and "name" in record and record.get("shard"):
                    self.names.add(record["name"])
        return self.names


def mesh_fields(name: str, input_path: str, cameras: dict) -> dict:
    """An index record's fields from a mesh's cameras.json document (:func:`.store.cameras_fields`)."""
    return {"name": name, "path": input_path, **store.cameras_fields(cameras)}


def mesh_record(name: str, input_path: str, members: list[tuple[str, bytes]]) -> dict:
    """The index record of one mesh from its members' cameras.json (its hidden member)."""
    for member, data in members:
        if shards.member_key(member)[1] == shards.CAMERAS_MEMBER:
            return mesh_fields(name, input_path, json.loads(data))
    return {"name": name, "path": input_path}


class ShardedOutput:
    """The run's side of the WebDataset layout: packs meshes into shards and writes their index lines."""

    def __init__(self, out_root: str, index: store.Journal, *, max_views: int | None = None,
                 max_bytes: int | None = None, on_done=None, owner=None, heartbeat=None):
        """``owner``/``heartbeat``: the run's (its :class:`~.claims.Claims`'), for the open shard."""
        self.out_root, self.index, self.on_done = out_root, index, on_done
        self.writer = shards.ShardWriter(out_root, max_views=max_views, max_bytes=max_bytes,
                                         on_finished=self._finished, owner=owner, heartbeat=heartbeat)

    def _finished(self, path: str, meshes: list[dict]) -> None:
        shard, size = relative_shard(self.out_root, path), os.path.getsize(path)
        for record in meshes:
            entry = dict(record, shard=shard, shard_bytes=size)
            self.index.append(entry)
            if self.on_done:
                self.on_done(entry)

    def add(self, name: str, input_path: str, members: list[tuple[str, bytes]]) -> None:
        self.writer.add(mesh_record(name, input_path, members), members)

    def pack_fragment(self, name: str, input_path: str, fragment: str) -> list[tuple[str, bytes]]:
        """Add the mesh a worker left in ``fragment`` and delete the fragment; return its members."""
        try:
            members = shards.read_fragment(fragment)
        except (OSError, EOFError, ValueError) as error:
            raise DepthViewsError(f"{fragment}: cannot read the worker's hand-off ({error})") from None
        self.add(name, input_path, members)
        try:
            os.remove(fragment)
        except OSError:
            pass
        return members

    def close(self) -> None:
        self.writer.close()

    def abort(self) -> None:
        self.writer.abort()
