"""Camera models benchmark: views/s, render border and exactness per model (docs/camera-models.md).

    python benchmarks/camera_models.py                 # 512 x 512, 24 views per model (a few minutes)
    python benchmarks/camera_models.py --size 64 --views 3 --exact-views 1   # a quick check

Run with a Python that has ``bpy`` and ``depth_views``.  For each model, one process renders
``--views`` views of ``scan_5k`` (benchmarks/bench_meshes.py) through the Python API (RenderJob, as
the CLI does) and reports the steady rate between its first and last view, the time of the first
view and whether Blender's render border (crop) was used.  Exactness: the asymmetric test object
(tests/meshes.py) rendered at the same size, against the independent ray caster of
tests/geometry.py (written from the formulas, not from our code): max and median |error| over
interior pixels, in units of the object size.  Timings go into this table, never into tests.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from bench_meshes import make_mesh, write_ply  # noqa: E402

MODELS = {"perspective": {}, "orthographic": {}, "fisheye": {"fisheye_fov": 180.0}, "equirectangular": {}}


def _job_rate(path: str, out: str, options) -> dict:
    from depth_views.inputs.scene_import import load_input
    from depth_views.render.job import RenderJob
    from depth_views.resolved import resolve

    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)
    times, cropped = [], 0
    started = time.perf_counter()
    with RenderJob(load_input(path), out, resolve(options)) as job:
        while not job.finished:
            job.step()
            times.append(time.perf_counter())
            cropped += job._renderer._crop_box is not None
        job.finish()
    steady = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else float("nan")
    return {"first_view_s": times[0] - started, "steady_views_per_s": steady, "cropped_views": cropped,
            "views": len(times)}


def _exactness(folder: str, mesh) -> tuple[float, float]:
    from checks import load_cameras_json
    from geometry import interior_mask, raycast_model

    from depth_views.exr_io import read_depth

    cameras = load_cameras_json(folder)
    size = float(np.ptp(mesh.vertices, axis=0).max())
    errors = []
    for view in cameras["views"]:
        depth = read_depth(os.path.join(folder, view["files"]["depth"]))
        reference = raycast_model(mesh.vertices, mesh.faces, cameras, view["world_to_camera"])
        surface = interior_mask(reference) & np.isfinite(reference)
        errors.append(np.abs(depth[surface] - reference[surface]) / size)
    errors = np.concatenate(errors)
    return float(errors.max()), float(np.median(errors))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="image width and height (default 512)")
    parser.add_argument("--views", type=int, default=24, help="timed views per model (default 24)")
    parser.add_argument("--exact-views", type=int, default=3, help="views checked for exactness (default 3)")
    args = parser.parse_args(argv)

    import bpy
    from meshes import asymmetric_mesh, write_mesh

    from depth_views.options import RenderOptions

    rows = []
    with tempfile.TemporaryDirectory(prefix="dv-bench-models-") as scratch:
        scan = write_ply(os.path.join(scratch, "scan_5k.ply"), *make_mesh("scan_5k"))
        asym = asymmetric_mesh()
        asym_path = write_mesh(asym, os.path.join(scratch, "asym.ply"))
        for model, settings in MODELS.items():
            options = RenderOptions(views=args.views, resolution=(args.size, args.size), camera_model=model,
                                    exr_compression="none", **settings)
            timing = _job_rate(scan, os.path.join(scratch, model), options)
            exact = RenderOptions(views=args.exact_views, resolution=(args.size, args.size), camera_model=model,
                                  **settings)
            folder = os.path.join(scratch, f"{model}-exact")
            _job_rate(asym_path, folder, exact)
            worst, median = _exactness(folder, asym)
            rows.append({"model": model, **timing, "max_error": worst, "median_error": median})
            print(f"{model}: {timing['steady_views_per_s']:.1f} views/s", file=sys.stderr)
    print(f"Blender {bpy.app.version_string}, {args.size}x{args.size}, scan_5k, {args.views} views per model, "
          f"CPU ({os.cpu_count()} cores); exactness: asymmetric object, {args.exact_views} views\n")
    print("| camera model | views/s (steady) | first view (s) | render border | max error / size | median error / size |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        border = f"{row['cropped_views']}/{row['views']} views" if row["cropped_views"] else "no (whole frame)"
        print(f"| {row['model']} | {row['steady_views_per_s']:.1f} | {row['first_view_s']:.2f} | {border} | "
              f"{row['max_error']:.1e} | {row['median_error']:.1e} |")
    return 0 if all(row["max_error"] < 1e-4 for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
