"""nerfstudio's own ray generator on our transforms.json with lens distortion (not a CI test: it needs nerfstudio).

    python benchmarks/nerfstudio_check.py --nerfstudio-python /work/scratch/nerfstudio/venv/bin/python
    python benchmarks/nerfstudio_check.py --nerfstudio-python ... --size 320 240 --views 2 --keep out/ns

Run with a Python that has ``bpy`` (4.5 or newer: Cycles' Custom camera) and ``depth_views``;
``--nerfstudio-python`` is a Python that has nerfstudio and (CPU) torch, and nothing of ours: the comparison runs
there on the files alone (benchmarks/RESULTS.md "nerfstudio's ray generator" says how that venv was made without
nerfstudio's ~8 GB of dependencies).

Per lens (tests/lens_cases.py at --size: a phone's OPENCV k1 k2 p1 p2, nerfstudio's OPENCV with k3 and k4, a
ScanNet++-like OPENCV_FISHEYE k1..k4 with an off-centre principal point and fx != fy, and two where nerfstudio
cannot agree everywhere: a fisheye reaching 180 degrees (corners beyond its reach) and a barrel lens whose
corners lie beyond its fold),
Suzanne is rendered from --views sphere-sampled views with ``--lens-model``.  Then, in nerfstudio's Python:

1. the output folder's transforms.json is loaded by nerfstudio's own dataparser (``NerfstudioDataParserConfig``
   with ``orientation_method="none"``, ``center_method="none"``, ``auto_scale_poses=False`` so that its rays stay
   in our world frame, ``downscale_factor=1`` because the frames' files are depth EXRs, ``eval_mode="all"``);
2. ``Cameras.generate_rays`` gives every pixel's ray (float32; distortion inverted by 10 Newton steps from the
   distorted point, without a mask);
3. against our rays (``LensModel.depth_rays`` of the same lens, float64, in world frame, saved by this process):
   the largest angle between the two rays over the pixels where our model has a ray (and its 99th percentile),
   the share of pixels compared, the pixels where nerfstudio gives a ray that our model does not have; and
   nerfstudio's 3D points ``origin + depth * directions_norm * direction`` (nerfstudio's own conversion of a
   depth image to ray distance, depth_nerfacto's non-Euclidean default: planar z for a perspective camera, the
   ray length for a fisheye, whose directions_norm is 1) against ours from the rendered depth.

Prints one table (benchmarks/RESULTS.md records it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# name: (lens case of tests/lens_cases.py, what it shows)
CASES = {
    "OPENCV k1 k2 p1 p2 (phone)": "OPENCV",
    "OPENCV k1..k4 p1 p2 (NERFSTUDIO_OPENCV)": "NERFSTUDIO_OPENCV",
    "OPENCV_FISHEYE k1..k4 (ScanNet++-like)": "OPENCV_FISHEYE",
    "OPENCV_FISHEYE to 180 degrees": "OPENCV_FISHEYE-180",
    "OPENCV folded corners": "OPENCV-folded",
}


# -- our side (a Python with bpy and depth_views) ----------------------------------------------------------------
def render_and_save(out: str, size: tuple[int, int], views: int) -> dict:
    """Render every case into ``out/<case>``; save our rays and depth per view (``ours.npz``); return
    {case name: folder}."""
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from lens_cases import lens_case

    from depth_views.cameras.models import CameraModel
    from depth_views.cli import main
    from depth_views.exr_io import read_depth

    suzanne = os.path.join(ROOT, "examples", "suzanne.obj")
    folders = {}
    for name, case in CASES.items():
        lens = lens_case(case, *size)
        target = os.path.join(out, case)
        code = main(["render", suzanne, "--out", target, "--quiet", "--views", str(views), "--resolution",
                     str(size[0]), str(size[1]), "--lens-model", lens.name, "--lens-params", *map(repr, lens.params)])
        if code != 0:
            raise SystemExit(f"{name}: the render failed (exit code {code})")
        folder = os.path.join(target, "suzanne")
        with open(os.path.join(folder, "cameras.json"), encoding="utf-8") as stream:
            cameras = json.load(stream)
        arrays = {}
        for view in cameras["views"]:
            model = CameraModel.from_document(cameras, view)   # the view's lens: LensModel.depth_rays, float64
            assert model.lens is not None and model.lens.key == lens.key
            origins, directions, valid = model.depth_rays()
            w2c = np.asarray(view["world_to_camera"], dtype=np.float64)
            rotation = w2c[:3, :3].T
            centre = -rotation @ w2c[:3, 3]
            depth = read_depth(os.path.join(folder, view["files"]["depth"]))
            key = os.path.basename(view["files"]["depth"])
            arrays[f"{key}/origins"] = origins @ rotation.T + centre
            arrays[f"{key}/directions"] = directions @ rotation.T      # z = 1 (planar) or unit (fisheye), camera frame
            arrays[f"{key}/valid"] = valid
            arrays[f"{key}/depth"] = depth
        np.savez(os.path.join(folder, "ours.npz"), **arrays)
        folders[name] = folder
    return folders


# -- nerfstudio's side (a Python with nerfstudio and torch, nothing of ours) -------------------------------------
def reprojection_error(meta: dict, c2w, directions, pixels) -> np.ndarray:
    """How far (pixels) each world-frame ray of ``directions`` lands from its pixel (nerfstudio's coordinates:
    centres at +0.5) when projected through transforms.json's lens (``meta``), by the forward model alone:
    OpenCV's radial k1..k4 and tangential p1 p2 on x/z (perspective) or on theta * (x, y)/|(x, y)| (fisheye)."""
    camera = directions @ c2w[:3, :3]                       # OpenGL camera axes (x right, y up, looking down -z)
    x, y, z = camera[..., 0], -camera[..., 1], -camera[..., 2]    # OpenCV
    k = [float(meta.get(name, 0.0)) for name in ("k1", "k2", "k3", "k4")]
    p1, p2 = float(meta.get("p1", 0.0)), float(meta.get("p2", 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        if meta.get("camera_model") == "OPENCV_FISHEYE":
            r = np.hypot(x, y)
            scale = np.where(r > 0, np.arctan2(r, z) / np.where(r > 0, r, 1.0), 0.0)
            a, b = x * scale, y * scale
        else:
            a, b = np.where(z > 0, x / z, np.nan), np.where(z > 0, y / z, np.nan)
        s = a * a + b * b
        radial = 1 + s * (k[0] + s * (k[1] + s * (k[2] + s * k[3])))
        xd = a * radial + 2 * p1 * a * b + p2 * (s + 2 * a * a)
        yd = b * radial + 2 * p2 * a * b + p1 * (s + 2 * b * b)
        u, v = meta["fl_x"] * xd + meta["cx"], meta["fl_y"] * yd + meta["cy"]
    error = np.hypot(u - pixels[..., 0], v - pixels[..., 1])
    return np.where(np.isfinite(error), error, np.inf)


def compare(folder: str) -> dict:
    """nerfstudio's rays and points against ``folder/ours.npz`` (see the module)."""
    from importlib.metadata import version
    from pathlib import Path

    import torch
    from nerfstudio.data.dataparsers.nerfstudio_dataparser import NerfstudioDataParserConfig

    config = NerfstudioDataParserConfig(data=Path(folder), downscale_factor=1, orientation_method="none",
                                        center_method="none", auto_scale_poses=False, eval_mode="all")
    outputs = config.setup().get_dataparser_outputs(split="train")
    cameras = outputs.cameras
    ours = np.load(os.path.join(folder, "ours.npz"))
    with open(os.path.join(folder, "transforms.json"), encoding="utf-8") as stream:
        meta = json.load(stream)
    total = compared = extra = 0
    angles, points, relative, reprojected, reprojected_extra = [], [], [], [], []
    for index, filename in enumerate(outputs.image_filenames):
        key = Path(filename).name
        with torch.no_grad():
            bundle = cameras.generate_rays(camera_indices=index, keep_shape=True)
        origins = bundle.origins.double().numpy()
        directions = bundle.directions.double().numpy()
        norm = bundle.metadata["directions_norm"].double().numpy()[..., 0]
        valid = ours[f"{key}/valid"]
        our_directions = ours[f"{key}/directions"]
        our_unit = our_directions / np.maximum(np.linalg.norm(our_directions, axis=-1, keepdims=True), 1e-300)
        finite = np.all(np.isfinite(directions), axis=-1)
        both = valid & finite
        total += valid.size
        compared += int(both.sum())
        extra += int((finite & ~valid).sum())
        cosine = np.clip(np.sum(directions[both] * our_unit[both], axis=-1), -1.0, 1.0)
        angles.append(np.arctan2(np.linalg.norm(np.cross(directions[both], our_unit[both]), axis=-1), cosine))
        coords = cameras.get_image_coords(pixel_offset=0.5).double().numpy()[..., ::-1]   # (x, y)
        error = reprojection_error(meta, cameras.camera_to_worlds[index].double().numpy(), directions, coords)
        reprojected.append(error[both])
        reprojected_extra.append(error[finite & ~valid])
        depth = ours[f"{key}/depth"]
        seen = both & np.isfinite(depth)
        mine = ours[f"{key}/origins"][seen] + depth[seen][:, None] * our_directions[seen]
        theirs = origins[seen] + (depth[seen] * norm[seen])[:, None] * directions[seen]
        distance = np.linalg.norm(theirs - mine, axis=-1)
        points.append(distance)
        relative.append(distance / np.linalg.norm(mine - ours[f"{key}/origins"][seen], axis=-1))
    angles, points, relative, reprojected, reprojected_extra = (
        np.concatenate(a) for a in (angles, points, relative, reprojected, reprojected_extra))
    return {"nerfstudio": version("nerfstudio"), "torch": torch.__version__,
            "max_reprojection": float(reprojected.max()),
            "extra_reprojection": float(np.median(reprojected_extra)) if reprojected_extra.size else None,
            "views": len(outputs.image_filenames), "pixels": total,
            "compared": compared, "extra": extra, "max_angle": float(angles.max()),
            "p99_angle": float(np.percentile(angles, 99)), "median_angle": float(np.median(angles)),
            "surface": int(points.size), "max_point": float(points.max()), "max_relative": float(relative.max())}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--nerfstudio-python", help="a Python with nerfstudio and torch (the comparison runs there)")
    parser.add_argument("--size", type=int, nargs=2, default=(640, 480), metavar=("W", "H"))
    parser.add_argument("--views", type=int, default=3)
    parser.add_argument("--keep", help="render into this folder and keep it (default: a temporary one)")
    parser.add_argument("--compare", nargs="+", metavar="FOLDER", help=argparse.SUPPRESS)   # nerfstudio's side
    args = parser.parse_args(argv)
    if args.compare:
        print(json.dumps([compare(folder) for folder in args.compare]))
        return 0
    if not args.nerfstudio_python:
        parser.error("--nerfstudio-python is required")
    with tempfile.TemporaryDirectory(prefix="dv-ns-") as scratch:
        out = args.keep or scratch
        folders = render_and_save(out, tuple(args.size), args.views)
        run = subprocess.run([args.nerfstudio_python, os.path.abspath(__file__), "--compare", *folders.values()],
                             capture_output=True, text=True)
        if run.returncode != 0:
            sys.stderr.write(run.stderr)
            return run.returncode
        rows = json.loads(run.stdout.strip().splitlines()[-1])
    first = rows[0]
    print(f"nerfstudio {first['nerfstudio']} (torch {first['torch']}) Cameras.generate_rays on our transforms.json, "
          f"{args.size[0]}x{args.size[1]}, {args.views} views per lens, against our float64 rays and depth")
    print("| lens | pixels compared | max angle (rad) | p99 angle (rad) | their rays' max reprojection (px) "
          "| surface pixels | max point distance | max distance / depth | pixels where only nerfstudio has a ray "
          "(median reprojection of its ray, px) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, row in zip(folders, rows):
        extra = f"{row['extra']} ({row['extra_reprojection']:.3g})" if row["extra"] else "0"
        print(f"| {name} | {row['compared']} of {row['pixels']} ({100 * row['compared'] / row['pixels']:.1f}%) "
              f"| {row['max_angle']:.2e} | {row['p99_angle']:.2e} | {row['max_reprojection']:.1e} | {row['surface']} "
              f"| {row['max_point']:.2e} | {row['max_relative']:.2e} | {extra} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
