"""WebDataset tar shards: one sample per view, packed in memory, written crash-safely (numpy + tarfile).

A sample is the members ``<key>.<ext>`` of one view, next to each other in a plain (uncompressed)
POSIX tar, as WebDataset expects (its key is the member name up to the first dot of the last path
component, so keys hold no dot at all; see :func:`sample_key`).  Every sample of a shard has the same
members (Hugging Face ``datasets`` requires it), and its json the same keys with the same types (no
null: ``object_to_world`` is the identity when the mesh was not normalised, ``K`` all zeros for a
camera without one)::

    <key>.depth.npz          planar depth, float32 (H, W), +inf = no surface (np.savez_compressed, array "depth")
    <key>.distance.npz       (distance pass) Euclidean distance, float32, array "distance"
    <key>.normal.npz         (normal pass) unit normals in the world frame, float32 (H, W, 3), 0 = no surface
    <key>.mask.npz           (mask pass) uint16 object ids, 0 = background
    <key>.xyz.npz            (xyz pass) world coordinates per pixel, float32 (H, W, 3), NaN = no surface
    <key>.rgb.png            (rgb pass) 8-bit sRGB RGBA; <key>.rgb_linear.npz with rgb_exr
    <key>.json               mesh, name, view_index, K, world_to_camera, camera_to_world, object_to_world,
                             normalized, width, height, depth_kind, units, background, passes, coverage
                             (fraction of pixels with a surface), mesh_views (the mesh's views in the shard)

After a mesh's last view, in the same shard, comes its whole cameras.json document as the hidden
member ``__meta__/__<mesh key>.cameras.json`` (:func:`cameras_member`), which Hugging Face
``datasets`` (basenames starting with ``__``) and ``webdataset`` (``__meta__/``) skip, and which
:func:`iter_shard` and :func:`group_members` leave out of the samples.  Shards written before it
(issue 21) carry the document as ``<key>.cameras.json`` on a mesh's first view and call
``object_to_world`` ``normalization`` (null when not normalised): every reader here still reads them
(:func:`decode_sample`, :func:`shard_cameras`, :func:`shard_meshes`).

Depth is a compressed ``.npz`` rather than ``.npy``: lossless, decoded by ``webdataset``'s standard
handlers (to ``{"depth": array}``), and about 4x smaller than ``.npy`` and 2x smaller than a zip EXR
on our renders (benchmarks/datasets_bench.py measures it).

:class:`SampleWriter` is the render loop's writer for ``--formats webdataset``: it keeps each view's
encoded members in memory.  :class:`ShardWriter` packs whole meshes into ``DIR/shards/``: a shard is
written under a temporary name, fsynced, and given its final ``shard-NNNNNN.tar`` name with a hard
link (atomic, never replacing another run's shard), then the folder is fsynced; a crash leaves only a
``.tmp-*`` file that no reader lists.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import tarfile
import time
import uuid
from urllib.parse import quote, unquote

import numpy as np

from ..cameras.models import CameraModel
from ..cameras.intrinsics import Intrinsics
from ..cameras.views import View
from ..errors import DepthViewsError
from ..options import RenderOptions
from .derived import derive_view, surface_fraction
from .geometry import surface_mask
from .ownership import Heartbeat, Owner

SHARDS_FOLDER = "shards"
SHARD_GLOB = "shard-*.tar"
SHARD_NAME = re.compile(r"^shard-(\d{6,})\.tar$")
TEMPORARY_PREFIX = ".tmp-"   # a shard being written: .tmp-<host>-<pid>-<8 hex>.tar (outputs/ownership.py)
TEMPORARY_SUFFIX = ".tar"
DEFAULT_SHARD_BYTES = 1 << 30
CAMERAS_MEMBER = "cameras.json"   # the extension of a mesh's cameras.json document in a shard
META_FOLDER = "__meta__"           # hidden members: skipped by webdataset, Hugging Face datasets and iter_shard
IDENTITY = np.eye(4).tolist()      # object_to_world of a mesh that was not normalised
NO_K = np.zeros((3, 3)).tolist()   # K of a camera that has no pinhole matrix (equirectangular): K[2][2] == 0


def sample_key(name: str, index: int) -> str:
    """The WebDataset key of view ``index`` of mesh ``name``: ``<name>/<index:04d>``, percent-encoded
    so that it holds no dot (WebDataset splits key and extension at the first one), no ``%`` other
    than its escapes and never starts with ``__`` (WebDataset skips such members); reversible with
    :func:`split_key`."""
    safe = quote(name, safe="/-_~").replace(".", "%2E")
    if safe.startswith("_"):
        safe = "%5F" + safe[1:]
    return f"{safe}/{index:04d}"


def mesh_key(name: str) -> str:
    """Mesh ``name`` percent-encoded with no ``/`` and no ``.`` at all (so its hidden member's basename
    starts with ``__``, which is what Hugging Face ``datasets`` skips); reversible with ``unquote``."""
    return quote(name, safe="-_~").replace(".", "%2E")


def cameras_member(name: str) -> str:
    """The hidden member holding mesh ``name``'s cameras.json document: ``__meta__/__<mesh key>.cameras.json``."""
    return f"{META_FOLDER}/__{mesh_key(name)}.{CAMERAS_MEMBER}"


def is_meta(member_name: str) -> bool:
    """Whether a member is a hidden one (not part of any sample)."""
    return member_name.startswith(META_FOLDER + "/")


def split_key(key: str) -> tuple[str, int]:
    """``(mesh name, view index)`` of a :func:`sample_key`."""
    name, _, index = key.rpartition("/")
    return unquote(name), int(index)


def member_key(member_name: str) -> tuple[str, str]:
    """``(key, extension)`` the way WebDataset splits a member name (first dot of the last component)."""
    folder, _, base = member_name.rpartition("/")
    stem, dot, extension = base.partition(".")
    return (f"{folder}/{stem}" if folder else stem), extension


def npz_bytes(name: str, array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{name: array})
    return buffer.getvalue()


def png_bytes(rgba8: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba8), "RGBA").save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def json_bytes(document: dict) -> bytes:
    return json.dumps(document, allow_nan=False, separators=(",", ":")).encode("utf-8")


class SampleWriter:
    """The render loop's writer for ``--formats webdataset``: every view's passes encoded in memory.

    Same calls as :class:`~.writer.OutputWriter` (``write_view`` returns no files; :attr:`coverage`
    lists each view's fraction of pixels with a surface); :meth:`members` gives the tar members once
    the mesh's name and cameras document are known.
    """

    def __init__(self, options: RenderOptions, intrinsics: Intrinsics, n_views: int, *, units: str = "",
                 object_to_world=None, camera_model: CameraModel | None = None):
        self.options, self.intrinsics, self.n_views, self.units = options, intrinsics, n_views, units
        self.camera_model = camera_model or CameraModel.perspective(intrinsics)
        self.passes = options.wanted_passes()
        self.normalized = object_to_world is not None
        self.object_to_world = np.asarray(object_to_world).tolist() if self.normalized else IDENTITY
        self.views: list[tuple[dict, dict]] = []
        self.coverage: list[float] = []
        self.warnings: list[str] = []

    def write_view(self, view: View, rendered: dict) -> dict:
        """Encode ``view``'s passes (``rendered`` as for :func:`~.derived.derive_view`) in memory."""
        model = self.camera_model.for_view(view)   # the view's own K or lens, or the model
        pinhole = model.is_pinhole
        camera = model.geometry_camera(view.intrinsics or self.intrinsics)  # the view's K, or the model
        K = camera if pinhole else model.K
        derived = derive_view(rendered, camera, view.world_to_camera, self.passes)
        encoded = {"depth.npz": npz_bytes("depth", derived.depth)}
        for name in ("distance", "normal", "xyz", "mask"):
            if getattr(derived, name) is not None:
                encoded[f"{name}.npz"] = npz_bytes(name, getattr(derived, name))
        if derived.rgb is not None:
            encoded["rgb.png"] = png_bytes(derived.rgb)
            if self.options.rgb_exr:
                encoded["rgb_linear.npz"] = npz_bytes("rgb_linear", derived.rgb_linear)
        self.coverage.append(derived.coverage)
        meta = {"view_index": view.index, "K": NO_K if K is None else K.tolist(),
                "world_to_camera": view.world_to_camera.tolist(),
                "camera_to_world": view.camera_to_world.tolist(), "object_to_world": self.object_to_world,
                "normalized": self.normalized,
                "width": self.intrinsics.width, "height": self.intrinsics.height, "depth_kind": model.depth_kind,
                # the model's name and own settings (fisheye FOV, equirectangular ranges, ortho scale)
                **{k: v for k, v in model.to_json().items() if k not in ("width", "height", "K", "depth_kind")},
                "background": "inf", "units": self.units, "passes": list(self.passes),
                "world_to_camera_axes": "OpenCV (x right, y down, z forward)",
                "camera_to_world_axes": "Blender/OpenGL (x right, y up, looking down -z)",
                "coverage": derived.coverage}
        self.views.append((meta, encoded))
        return {}

    def finish(self) -> tuple[dict, dict]:
        return {}, {"passes": list(self.passes), "formats": ["webdataset"]}

    def members(self, name: str, mesh_path: str, cameras: dict) -> list[tuple[str, bytes]]:
        """The tar members of every view written so far, keyed by mesh ``name``, then the mesh's
        ``cameras`` document as its hidden member (:func:`cameras_member`)."""
        return mesh_members(name, mesh_path, self.views, cameras)


def mesh_members(name: str, mesh_path: str, views: list[tuple[dict, dict]], cameras: dict) -> list[tuple[str, bytes]]:
    """One mesh's tar members: for each ``(json fields, {extension: bytes})`` of ``views`` its sample
    (``mesh``, ``name`` and ``mesh_views`` added to the json), then the ``cameras`` document as the
    hidden member :func:`cameras_member`."""
    members = []
    for meta, encoded in views:
        key = sample_key(name, meta["view_index"])
        for extension, data in encoded.items():
            members.append((f"{key}.{extension}", data))
        members.append((f"{key}.json", json_bytes({"mesh": mesh_path, "name": name, **meta, "mesh_views": len(views)})))
    members.append((cameras_member(name), json_bytes({**cameras, "name": name, "mesh": mesh_path})))
    return members


def _tarinfo(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.uname, info.gname = size, int(mtime), 0o644, "", ""
    return info


def write_fragment(path: str, members: list[tuple[str, bytes]]) -> None:
    """Write one mesh's members to tar ``path`` via a temporary name and a rename (the worker's hand-off)."""
    temporary = f"{path}.{uuid.uuid4().hex[:8]}.tmp"
    now = time.time()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with tarfile.open(temporary, "w", format=tarfile.PAX_FORMAT) as tar:
            for name, data in members:
                tar.addfile(_tarinfo(name, len(data), now), io.BytesIO(data))
        os.replace(temporary, path)
    except OSError as error:
        _remove(temporary)
        raise DepthViewsError(f"{path}: cannot write ({error.strerror or error})") from None


def read_fragment(path: str) -> list[tuple[str, bytes]]:
    with tarfile.open(path, "r:") as tar:
        return [(m.name, tar.extractfile(m).read()) for m in tar.getmembers() if m.isreg()]


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def fsync_folder(folder: str) -> None:
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def finished_shards(root: str) -> list[str]:
    """Paths of the finished shards under ``root`` (DIR or DIR/shards), in name order."""
    folder = root if os.path.basename(os.path.normpath(root)) == SHARDS_FOLDER else os.path.join(root, SHARDS_FOLDER)
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return [os.path.join(folder, n) for n in sorted(names) if SHARD_NAME.match(n)]


def shard_meshes(path: str) -> list[dict]:
    """The meshes in finished shard ``path``, from their cameras.json documents (hidden members, or
    ``<key>.cameras.json`` in shards written before them): ``name``, ``path``, ``views``, ``keys`` and
    ``cameras`` (the document).  Raises :class:`DepthViewsError` naming the shard when it is not a
    complete tar, or when a mesh has fewer samples than its document lists views."""
    meshes: dict[str, dict] = {}
    keys: dict[str, list] = {}
    try:
        with tarfile.open(path, "r:") as tar:
            members = tar.getmembers()
            for member in members:
                key, extension = member_key(member.name)
                if extension == CAMERAS_MEMBER:
                    document = json.loads(tar.extractfile(member).read())
                    meshes[document["name"]] = {"name": document["name"], "path": document.get("mesh"),
                                                "views": len(document.get("views", [])), "cameras": document}
                if is_meta(member.name):
                    continue
                name = split_key(key)[0]
                keys.setdefault(name, [])
                if not keys[name] or keys[name][-1] != key:
                    keys[name].append(key)
            end = (members[-1].offset_data + -(-members[-1].size // 512) * 512) if members else 0
            tar.fileobj.seek(end)
            trailer = tar.fileobj.read()
            if len(trailer) < 1024 or trailer.strip(b"\0"):   # tar's end: two zero blocks
                raise tarfile.ReadError("truncated: no end-of-archive blocks")
    except (tarfile.TarError, OSError, ValueError, KeyError, EOFError) as error:
        raise DepthViewsError(f"{path}: not a complete tar shard ({error}); move it out of the shards folder "
                              "(its meshes then render again)") from None
    for name, record in meshes.items():
        record["keys"] = keys.get(name, [])
        if len(record["keys"]) != record["views"]:
            raise DepthViewsError(f"{path}: mesh {name} has {len(record['keys'])} of {record['views']} views; "
                                  "move the shard out of the shards folder")
    return list(meshes.values())


def shard_cameras(path: str):
    """The cameras.json document of every mesh in shard ``path``, in order (hidden members, or the
    ``<key>.cameras.json`` members of shards written before them); each has ``name`` and ``mesh``."""
    try:
        with tarfile.open(path, "r|") as tar:
            for member in tar:
                if member.isreg() and member_key(member.name)[1] == CAMERAS_MEMBER:
                    yield json.loads(tar.extractfile(member).read())
    except (tarfile.TarError, OSError, EOFError, ValueError) as error:
        raise DepthViewsError(f"{path}: not a complete tar shard ({error})") from None


class ShardWriter:
    """Packs whole meshes into ``DIR/shards/shard-NNNNNN.tar``, each up to ``max_views`` views or
    ``max_bytes`` bytes (a mesh is never split; a mesh bigger than the target gets a shard alone).

    ``on_finished(shard_path, meshes)`` is called once a shard has its final name, with the records
    passed to :meth:`add`.  A full disk or another write error raises :class:`DepthViewsError`, after
    the temporary shard is removed; finished shards are never opened for writing.

    The temporary shard's name names its ``owner`` (default: this process); ``heartbeat`` (the run's
    :class:`~.ownership.Heartbeat`) keeps it fresh for runs on other hosts while it is open.
    """

    def __init__(self, out_root: str, *, max_views: int | None = None, max_bytes: int | None = None,
                 on_finished=None, owner: Owner | None = None, heartbeat: Heartbeat | None = None):
        self.folder = os.path.join(os.path.abspath(out_root), SHARDS_FOLDER)
        self.max_views, self.max_bytes = max_views, max_bytes or DEFAULT_SHARD_BYTES
        self.on_finished = on_finished
        self.owner, self.heartbeat = owner or Owner.this_run(), heartbeat
        try:
            os.makedirs(self.folder, exist_ok=True)
        except OSError as error:
            raise DepthViewsError(f"{self.folder}: cannot create the shards folder ({error.strerror})") from None
        self._tar = self._file = self._temporary = None
        self._meshes: list[dict] = []
        self._views = self._bytes = 0
        self.finished: list[str] = []

    def _open(self) -> None:
        self._temporary = os.path.join(self.folder, self.owner.temporary_name(TEMPORARY_PREFIX, TEMPORARY_SUFFIX))
        self._file = open(self._temporary, "wb")
        if self.heartbeat is not None:
            self.heartbeat.add(self._temporary)
        self._tar = tarfile.open(fileobj=self._file, mode="w", format=tarfile.PAX_FORMAT)
        self._meshes, self._views, self._bytes = [], 0, 0

    def add(self, record: dict, members: list[tuple[str, bytes]]) -> None:
        """Append one mesh (``record`` goes to ``on_finished``; it gets ``keys``, its samples' keys)."""
        views = len({member_key(n)[0] for n, _ in members if not is_meta(n)})
        size = sum(512 + len(d) + 511 for _, d in members)
        if self._tar is not None and self._meshes and (
                (self.max_views and self._views + views > self.max_views) or self._bytes + size > self.max_bytes):
            self.close()
        try:
            if self._tar is None:
                self._open()
            now = time.time()
            for name, data in members:
                self._tar.addfile(_tarinfo(name, len(data), now), io.BytesIO(data))
        except OSError as error:
            self.abort()
            raise self._write_error(error) from None
        keys = []
        for name, _ in members:
            if is_meta(name):
                continue
            key = member_key(name)[0]
            if not keys or keys[-1] != key:
                keys.append(key)
        self._meshes.append(dict(record, keys=keys))
        self._views += views
        self._bytes += size

    def _write_error(self, error: OSError) -> DepthViewsError:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            return DepthViewsError(f"{self.folder}: the disk is full; the open shard was removed and the "
                                   "finished shards are kept: free some space and run the same command again")
        return DepthViewsError(f"{self.folder}: cannot write a shard ({error.strerror or error})")

    def close(self) -> str | None:
        """Finish the open shard (fsync, final name, fsync of the folder); return its path."""
        if self._tar is None:
            return None
        try:
            self._tar.close()
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            final = self._publish()
        except OSError as error:
            self.abort()
            raise self._write_error(error) from None
        self._forget_temporary()
        self.finished.append(final)
        if self.on_finished:
            self.on_finished(final, self._meshes)
        self._meshes = []
        return final

    def _publish(self) -> str:
        existing = [int(SHARD_NAME.match(os.path.basename(p)).group(1)) for p in finished_shards(self.folder)]
        number = max(existing, default=-1) + 1
        while True:
            final = os.path.join(self.folder, f"shard-{number:06d}.tar")
            try:
                os.link(self._temporary, final)   # fails if another run took the number
            except FileExistsError:
                number += 1
                continue
            except OSError as error:
                if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                    raise
                if os.path.exists(final):   # no hard links here: a checked rename instead
                    number += 1
                    continue
                os.rename(self._temporary, final)
                break
            os.remove(self._temporary)
            break
        fsync_folder(self.folder)
        return final

    def abort(self) -> None:
        """Drop the open shard (its meshes are not done)."""
        for closing in (self._tar, self._file):
            try:
                if closing is not None:
                    closing.close()
            except OSError:
                pass
        if self._temporary:
            _remove(self._temporary)
        self._forget_temporary()
        self._meshes = []

    def _forget_temporary(self) -> None:
        if self.heartbeat is not None and self._temporary:
            self.heartbeat.discard(self._temporary)
        self._tar = self._file = self._temporary = None


def decode_member(extension: str, data: bytes):
    """One member's value: ``.npz`` -> its single array, ``.json`` -> dict, ``.png`` -> uint8 array (writable)."""
    last = extension.rpartition(".")[2]
    if last == "npz":
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return arrays[arrays.files[0]]
    if last == "json":
        return json.loads(data)
    if last == "png":
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            return np.array(image)
    return data


MATRICES = ("K", "world_to_camera", "camera_to_world", "object_to_world")


def view_fields(meta: dict) -> dict:
    """A view's json fields as the reader gives them, the same for shards of every version: ``K`` and
    the 4x4s as float64 arrays (``K`` all zeros for a camera without one), ``object_to_world`` and
    ``normalized`` (from ``normalization``, null when not normalised, in shards written before
    issue 21), ``passes`` as one comma-separated string."""
    fields = dict(meta)
    if "object_to_world" not in fields:
        old = fields.pop("normalization", None)
        fields["object_to_world"] = IDENTITY if old is None else old
        fields.setdefault("normalized", old is not None)
    if fields.get("K") is None:
        fields["K"] = NO_K
    for name in MATRICES:
        if name in fields:
            fields[name] = np.asarray(fields[name], dtype=np.float64)
    if isinstance(fields.get("passes"), list):
        fields["passes"] = ",".join(fields["passes"])
    return fields


def decode_sample(key: str, members: dict, *, mesh_views: int | None = None) -> dict:
    """A view as the reader gives it: the ``.json`` fields (:func:`view_fields`), each pass as an
    array under its name (``depth``, ``distance``, ``normal``, ``mask`` (int32), ``rgb``,
    ``rgb_linear``, ``xyz``) and ``key``.  The same keys for every view of a shard, whichever version
    wrote it: ``coverage`` is computed from the depth and ``mesh_views`` taken from ``mesh_views``
    (or the mesh's old ``cameras.json`` member) where the shard predates them; a ``cameras.json``
    member is never part of a sample (see :func:`shard_cameras`)."""
    sample = view_fields(decode_member("json", members["json"])) if "json" in members else {}
    for extension, data in members.items():
        if extension in ("json", CAMERAS_MEMBER):
            continue
        sample[extension.partition(".")[0]] = decode_member(extension, data)
    if "mask" in sample:
        sample["mask"] = sample["mask"].astype(np.int32)   # torch has no arithmetic on uint16 tensors
    if "coverage" not in sample and "depth" in sample:
        sample["coverage"] = surface_fraction(surface_mask(sample["depth"]))
    if "mesh_views" not in sample:
        if CAMERAS_MEMBER in members:
            mesh_views = len(json.loads(members[CAMERAS_MEMBER]).get("views", []))
        sample["mesh_views"] = -1 if mesh_views is None else mesh_views
    sample["key"] = key
    return sample


def iter_shard(path: str, keys=None, *, meta: bool = False):
    """``(key, {extension: bytes})`` of every sample of shard ``path``, streamed in order (``keys``:
    only these); hidden members (``__meta__/``) are not samples and are left out, or, with ``meta``,
    given in their place in the stream as ``("__meta__/__<mesh key>", {"cameras.json": bytes})``
    (:func:`is_meta` tells them apart).  A truncated or corrupt shard raises :class:`DepthViewsError`
    naming it."""
    wanted = None if keys is None else set(keys)
    current, members = None, {}
    try:
        with open(path, "rb") as stream:   # a complete tar ends with two zero blocks
            size = stream.seek(0, os.SEEK_END)
            stream.seek(max(0, size - 1024))
            if size < 1024 or size % 512 or stream.read().strip(b"\0"):
                raise tarfile.ReadError("truncated: no end-of-archive blocks")
        with tarfile.open(path, "r|") as tar:
            for member in tar:
                if not member.isreg() or (is_meta(member.name) and not meta):
                    continue
                key, extension = member_key(member.name)
                if wanted is not None and key not in wanted and not is_meta(member.name):
                    continue
                if key != current:
                    if current is not None:
                        yield current, members
                    current, members = key, {}
                members[extension] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError) as error:
        raise DepthViewsError(f"{path}: not a complete tar shard ({error})") from None
    if current is not None:
        yield current, members


def group_members(members: list[tuple[str, bytes]]):
    """``(key, {extension: bytes})`` of in-memory members, as :func:`iter_shard` gives them."""
    current, grouped = None, {}
    for name, data in members:
        if is_meta(name):
            continue
        key, extension = member_key(name)
        if key != current:
            if current is not None:
                yield current, grouped
            current, grouped = key, {}
        grouped[extension] = data
    if current is not None:
        yield current, grouped
