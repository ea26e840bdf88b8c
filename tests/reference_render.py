"""A fixed set of renders and their fingerprint, to show a refactoring changed no output.

``fingerprint(folder)`` renders examples/suzanne.obj three ways through the CLI (sampled views with
several passes and formats; a nerfstudio camera file; WebDataset shards) and returns
``{file or tar member: digest}``: the sha256 of every decoded array (EXR channels, npz arrays, PNG
pixels) and of every JSON document with its run-specific values (Blender's version string, absolute
paths) taken out.  ``tests/render/reference/<bpy version>.json`` keeps what the code gave before the
settings were resolved once (issue 19); ``tests/render/test_reference_render.py`` compares.

    python tests/reference_render.py --write tests/render/reference     # with the code to keep as reference

Renewed once since, for issue 21 (one sample schema, coverage): each cameras.json gained a ``coverage``
per view (the digest without it is the old one); in the shard, each view's json gained
``object_to_world`` (was ``normalization``: null, now the identity with ``normalized`` false),
``coverage`` and ``mesh_views``, and the cameras document moved from ``suzanne/0000.cameras.json`` to
the hidden ``__meta__/__suzanne.cameras.json``.  Every other digest (every array, EXR, PNG, npz
member, transforms.json) stayed the same, for bpy 5.0, 4.5 and 4.2.

Renewed again for issue 21 item 6: each cameras.json (both folder runs, and the shard's hidden
``__meta__/__suzanne.cameras.json``) gained ``covisibility`` (the digest without it is the old one);
every other digest stayed the same, for bpy 5.0, 4.5 and 4.2.  Run records under ``DIR/.runs`` (named
by a hash of the input paths, so by where the checkout is) are not outputs and are not fingerprinted.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import tarfile
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from camera_files import world_to_camera_seeing, write_transforms  # noqa: E402
from repo import ROOT  # noqa: E402

SUZANNE = os.path.join(ROOT, "examples", "suzanne.obj")
COMMON = ["--resolution", "40", "30", "--quiet"]
RUNS = {
    "sampled": ["--views", "3", "--passes", "depth,distance,normal,mask", "--formats", "exr,png16,npz"],
    "camera_file": ["--formats", "exr"],
    "shards": ["--views", "3", "--passes", "depth,normal,mask", "--formats", "webdataset"],
}
VOLATILE_KEYS = {"blender_version"}


def _camera_file(folder: str) -> str:
    K = [[36.0, 0.0, 20.5], [0.0, 33.0, 14.0], [0.0, 0.0, 1.0]]
    cameras = [(K, world_to_camera_seeing(p, (0.0, 0.0, 0.0), K, 40, 30, roll_deg=10.0 * i), 40, 30)
               for i, p in enumerate([(4.0, 0.5, 1.0), (-1.0, 4.0, 0.5), (0.5, -1.5, -4.0)])]
    return write_transforms(os.path.join(folder, "transforms.json"), cameras, per_frame=True)


def _clean(value, folder: str):
    if isinstance(value, dict):
        return {k: _clean(v, folder) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_clean(v, folder) for v in value]
    if isinstance(value, str) and (value.startswith(folder) or value.startswith(ROOT)):
        return os.path.basename(value)
    return value


def _digest_bytes(name: str, data: bytes, folder: str) -> str:
    if name.endswith(".json"):
        text = json.dumps(_clean(json.loads(data), folder), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()
    if name.endswith(".npz"):
        with np.load(io.BytesIO(data)) as arrays:
            return hashlib.sha256(b"".join(k.encode() + np.ascontiguousarray(arrays[k]).tobytes()
                                           for k in sorted(arrays.files))).hexdigest()
    if name.endswith(".png"):
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            return hashlib.sha256(np.asarray(image).tobytes()).hexdigest()
    return hashlib.sha256(data).hexdigest()


def _digest_file(path: str, folder: str) -> str:
    if path.endswith(".exr"):
        from depth_views.exr_io import read_channels

        channels = read_channels(path)
        return hashlib.sha256(b"".join(k.encode() + np.ascontiguousarray(channels[k]).tobytes()
                                       for k in sorted(channels))).hexdigest()
    with open(path, "rb") as stream:
        return _digest_bytes(path, stream.read(), folder)


def fingerprint(folder: str) -> dict[str, str]:
    from depth_views.cli import main

    digests = {}
    for run, options in RUNS.items():
        out = os.path.join(folder, run)
        extra = ["--cameras", _camera_file(folder)] if run == "camera_file" else []
        if main(["render", SUZANNE, "--out", out, *COMMON, *options, *extra]) != 0:
            raise RuntimeError(f"the {run} render failed")
        for root, subfolders, files in os.walk(out):
            subfolders[:] = [d for d in subfolders if not d.startswith(".")]   # a run's own records (.runs, .claims)
            for name in sorted(files):
                path = os.path.join(root, name)
                relative = os.path.relpath(path, folder)
                if name.endswith(".tar"):
                    with tarfile.open(path) as tar:
                        for member in tar.getmembers():
                            digests[f"{relative}:{member.name}"] = _digest_bytes(
                                member.name, tar.extractfile(member).read(), folder)
                elif name.endswith((".exr", ".json", ".npz", ".png")) and name != "dataset.json":
                    digests[relative] = _digest_file(path, folder)
    return digests


def reference_name() -> str:
    import bpy

    return "bpy-%d.%d.json" % bpy.app.version[:2]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", metavar="FOLDER", required=True)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        digests = fingerprint(os.path.realpath(folder))
    os.makedirs(args.write, exist_ok=True)
    path = os.path.join(args.write, reference_name())
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(digests, stream, indent=1, sort_keys=True)
    print(f"wrote {len(digests)} digests to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
