"""The writers' reference: what the folder writer and the shard writer make of one fixed render.

``tests/outputs/reference/suzanne_passes.npz`` holds what the renderer handed the writers for
examples/suzanne.obj (3 views, 32x24, passes depth, distance, normal, mask, xyz, rgb; 4 rgb samples;
``--normalize``), captured once with bpy 5.0.1: the raw passes per view, the views' poses and the
writers' settings.  ``writer_digests.json`` holds a digest of every file and tar member the writers
of the main branch (45016a8, before outputs/derived.py) produced from it, for three cameras: the
captured pinhole, the same passes under a fisheye model, and per-view pinhole K (``--fov`` ranges,
camera files).
:func:`writer_digests` replays the passes through today's writers; tests/outputs/test_writer_reference.py
compares.  Needs no Blender.

Each file gets ``sha256`` (its bytes) and ``content`` (what it holds, independent of the compressor's
version: an EXR's header attributes and channel bytes, a PNG's mode, size, text and pixels, an npz's
member names, compression and uncompressed ``.npy`` bytes).  Neither EXR, PNG nor npz embeds a time
(numpy's zip members carry zipfile's fixed 1980 date); a tar holds its members' mtimes, so shards are
compared member by member.  An npz member that is a pickled object array is numpy's own bytes, different
from numpy 1 to 2: marked ``numpy_pickle``, its content digest covers only its shape.  (views.npz's ``view_K``
of non-pinhole cameras was one until issue 20 made it a float array: the fisheye case's views.npz digest
was rewritten then, alone.)

The shard members' digests were renewed once, for issue 21's sample schema: each view's json gained
``object_to_world`` (was ``normalization``), ``normalized``, ``coverage`` and ``mesh_views``, and the
cameras document moved from ``suzanne/0000.cameras.json`` to the hidden ``__meta__/__suzanne.cameras.json``
after the last view; every npz and png member kept its digest, and each json, its new keys taken out
and ``normalization`` put back, gave the old bytes again.

``python tests/writer_reference.py capture`` (needs bpy) rewrites the passes; ``... digests`` rewrites
the digests with the code on the path: only on a commit whose writers are known to be right.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import tempfile
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "outputs", "reference")
PASSES_FILE = os.path.join(REFERENCE, "suzanne_passes.npz")
DIGESTS_FILE = os.path.join(REFERENCE, "writer_digests.json")
MESH = os.path.join(os.path.dirname(HERE), "examples", "suzanne.obj")
PASSES = ("depth", "distance", "normal", "mask", "xyz", "rgb")
FOLDER_FORMATS = ("exr", "png16", "npz", "preview", "contact_sheet", "ply", "fused_ply")
CASES = ("pinhole", "fisheye", "per_view_K")
CAMERAS_DOCUMENT = {"format": "depth_views.cameras", "views": [{"index": 0}, {"index": 1}, {"index": 2}]}


def options(formats):
    from depth_views.options import RenderOptions

    return RenderOptions(views=3, resolution=(32, 24), passes=PASSES, formats=tuple(formats), rgb_samples=4,
                         rgb_exr=True, normalize=True)


def capture() -> None:
    """Render examples/suzanne.obj and store what the renderer hands the writers (needs bpy)."""
    from depth_views.inputs.scene_import import load_input
    from depth_views.render.job import RenderJob

    arrays: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        with RenderJob(load_input(MESH), folder, options(FOLDER_FORMATS)) as job:
            plan = job.plan
            for position, view in enumerate(plan.views):
                rendered = job._renderer.render_passes(view)
                for name in ("depth", "normal", "mask", "rgb"):
                    arrays.setdefault(name, []).append(np.asarray(rendered[name]))
                arrays.setdefault("world_to_camera", []).append(view.world_to_camera)
                arrays.setdefault("camera_to_world", []).append(view.camera_to_world)
                arrays.setdefault("angles", []).append([view.azimuth_deg, view.elevation_deg, view.radius])
            intrinsics = plan.intrinsics
            settings = {"intrinsics": [intrinsics.width, intrinsics.height, intrinsics.lens_mm, intrinsics.sensor_mm],
                        "units": job.loaded.units, "center": np.asarray(plan.center).tolist(),
                        "object_radius": plan.object_radius, "object_ids": job._renderer.object_ids,
                        "object_to_world": np.asarray(plan.object_to_world).tolist()}
    arrays = {name: np.stack(values) for name, values in arrays.items()}
    os.makedirs(REFERENCE, exist_ok=True)
    np.savez_compressed(PASSES_FILE, settings=np.array(json.dumps(settings)), **arrays)


def load_passes():
    """``(settings, views, rendered)``: the writers' settings, the Views and each view's passes."""
    from depth_views.cameras.views import View

    with np.load(PASSES_FILE, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    settings = json.loads(str(arrays.pop("settings")))
    views, rendered = [], []
    for index in range(len(arrays["depth"])):
        azimuth, elevation, radius = arrays["angles"][index]
        views.append(View(index, float(azimuth), float(elevation), float(radius),
                          arrays["camera_to_world"][index], arrays["world_to_camera"][index]))
        rendered.append({name: arrays[name][index] for name in ("depth", "normal", "mask", "rgb")})
    return settings, views, rendered


def camera_case(case: str, settings: dict, views: list):
    """``(intrinsics, camera model, views)`` of one of :data:`CASES`."""
    import dataclasses

    from depth_views.cameras.models import CameraModel
    from depth_views.cameras.views import Intrinsics

    width, height, lens, sensor = settings["intrinsics"]
    intrinsics = Intrinsics(int(width), int(height), lens, sensor)
    if case == "pinhole":
        return intrinsics, CameraModel.perspective(intrinsics), views
    if case == "fisheye":
        return intrinsics, CameraModel.fisheye(int(width), int(height), 170.0), views
    own = [dataclasses.replace(view, intrinsics=Intrinsics(int(width), int(height), lens + 7.5 * view.index, sensor))
           for view in views]
    return intrinsics, CameraModel.perspective(intrinsics), own


def content_digest(name: str, data: bytes) -> tuple[str, bool]:
    """A digest of what file or member ``name`` holds (see the module docstring), and whether it holds
    a pickled numpy object array (whose bytes are numpy's own, version to version)."""
    digest, pickled = hashlib.sha256(), False
    extension = name.rpartition(".")[2]
    if extension == "npz":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                digest.update(repr((info.filename, info.compress_type)).encode())
                member = archive.read(info)
                stream = io.BytesIO(member)
                major, _ = np.lib.format.read_magic(stream)
                read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
                shape, fortran, dtype = read_header(stream)
                if dtype.hasobject:   # a pickle (views.npz's view_K of non-pinhole cameras): numpy's own bytes
                    digest.update(repr(("object array", shape, fortran)).encode())
                    pickled = True
                else:
                    digest.update(member)
    elif extension == "png":
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            digest.update(repr((image.mode, image.size, sorted(image.text.items()))).encode())
            digest.update(image.tobytes())
    elif extension == "exr":
        import OpenEXR

        with tempfile.NamedTemporaryFile(suffix=".exr") as scratch:
            scratch.write(data)
            scratch.flush()
            with OpenEXR.File(scratch.name) as exr:
                header = exr.header()
                for key in sorted(header):
                    digest.update(repr((key, _plain(header[key]))).encode())
                for channel_name, channel in sorted(exr.channels().items()):
                    digest.update(channel_name.encode())
                    digest.update(np.ascontiguousarray(channel.pixels).tobytes())
    else:
        digest.update(data)
    return digest.hexdigest(), pickled


def _plain(value):
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes().hex())
    if hasattr(value, "__dict__") and not isinstance(value, (str, bytes)):
        return repr(sorted(vars(value).items()))
    return repr(value)


def file_record(name: str, data: bytes) -> dict:
    content, pickled = content_digest(name, data)
    record = {"sha256": hashlib.sha256(data).hexdigest(), "content": content}
    if pickled:
        record["numpy_pickle"] = True
    return record


def writer_digests() -> dict:
    """``{case: {"folder": {path: record}, "members": {member: record}}}`` from today's writers."""
    from depth_views.outputs.shards import SampleWriter, ShardWriter, read_fragment
    from depth_views.outputs.writer import OutputWriter

    settings, views, rendered = load_passes()
    result = {}
    for case in CASES:
        intrinsics, model, case_views = camera_case(case, settings, views)
        with tempfile.TemporaryDirectory() as folder:
            writer = OutputWriter(folder, options(FOLDER_FORMATS), intrinsics, len(views), units=settings["units"],
                                  center=settings["center"], object_radius=settings["object_radius"],
                                  object_ids={int(k): v for k, v in settings["object_ids"].items()},
                                  camera_model=model)
            writer.prepare()
            files = [writer.write_view(view, passes) for view, passes in zip(case_views, rendered)]
            finished, extra = writer.finish()
            written = {}
            for root, _, names in os.walk(folder):
                for file_name in names:
                    path = os.path.join(root, file_name)
                    relative = os.path.relpath(path, folder).replace(os.sep, "/")
                    with open(path, "rb") as stream:
                        written[relative] = file_record(relative, stream.read())
            listed = sorted(p for view_files in files for p in view_files.values()) + sorted(finished.values())
            extra_digest = hashlib.sha256(json.dumps(extra, sort_keys=True).encode()).hexdigest()
            shard_writer = SampleWriter(options(["webdataset"]), intrinsics, len(views), units=settings["units"],
                                        object_to_world=settings["object_to_world"], camera_model=model)
            for view, passes in zip(case_views, rendered):
                shard_writer.write_view(view, passes)
            members = shard_writer.members("suzanne", "/in/suzanne.obj", dict(CAMERAS_DOCUMENT))
            tar_folder = os.path.join(folder, "tar")
            shard = ShardWriter(tar_folder)
            shard.add({"name": "suzanne"}, members)
            [path] = [shard.close()]
            packed = read_fragment(path)
        result[case] = {"folder": written, "listed": listed, "finish_extra": extra_digest,
                        "members": [[name, file_record(name, data)] for name, data in members],
                        "tar": [[name, file_record(name, data)] for name, data in packed]}
    return result


def library_versions() -> dict:
    import zlib

    import PIL

    try:
        import OpenEXR
        openexr = getattr(OpenEXR, "__version__", "?")
    except ImportError:
        openexr = None
    return {"Pillow": PIL.__version__, "zlib": zlib.ZLIB_RUNTIME_VERSION, "OpenEXR": openexr}


def main(argv) -> int:
    if argv[1:] == ["capture"]:
        capture()
    elif argv[1:] == ["digests"]:
        with open(DIGESTS_FILE, "w", encoding="utf-8") as stream:
            json.dump({"made_with": library_versions(), "cases": writer_digests()}, stream, indent=1, sort_keys=True)
            stream.write("\n")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
