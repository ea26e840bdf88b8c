"""Lens models benchmark: exactness of every lens model against pycolmap's rays, and views/s through each model
next to Blender's plain perspective camera (docs/camera-models.md, benchmarks/RESULTS.md "Lens models").

    python benchmarks/lens_models.py                      # 64x48 exactness, 256x192 x 12 views per model
    python benchmarks/lens_models.py --size 128 96 --views 4 --exact-size 64 48   # a quick check

Run with a Python that has ``bpy`` (4.5 or newer: Cycles' Custom camera), ``depth_views``, pycolmap, trimesh and
embreex.  Exactness: every case of tests/lens_cases.py (off-centre principal points, fx != fy, a fisheye past
180 degrees, a barrel beyond its fold) renders the asymmetric box with its spike above a floor, one view per
model, against tests/lens_reference.py (rays from pycolmap's ``cam_ray_from_img``, Embree, an exact float64
hit): the pixels that see a surface, max and p99 |depth error| over interior pixels in units of the object's
size, and what a principal point half a pixel off would give (the check's power).  Speed: ``scan_5k``
(benchmarks/bench_meshes.py) through the Python API (RenderJob, as the CLI does), the steady rate between the
first and the last view, CPU, one process per model in turn.  Timings go into this table, never into tests.
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

SPEED_MODELS = ("OPENCV", "FULL_OPENCV", "SIMPLE_RADIAL", "FOV", "NERFSTUDIO_OPENCV", "OPENCV_FISHEYE",
                "THIN_PRISM_FISHEYE", "RAD_TAN_THIN_PRISM_FISHEYE")


def exactness(width: int, height: int) -> list[dict]:
    """One row per lens case: mask agreement and interior depth error against the reference."""
    import bpy
    from lens_cases import CASES, lens_case
    from lens_reference import interior, lens_view, reference_depth, scene

    from depth_views.cameras.lens import LensModel
    from depth_views.options import RenderOptions
    from depth_views.render.job import render_views

    mesh, objects, size = scene()
    rows = []
    with tempfile.TemporaryDirectory(prefix="dv-bench-lens-") as scratch:
        path = os.path.join(scratch, "scene.ply")
        mesh.export(path)
        lenses = [lens_case(name, width, height) for name in CASES]
        first = lenses[0]
        options = RenderOptions(resolution=(width, height), lens_model=first.name, lens_params=first.params)
        bpy.ops.wm.read_factory_settings(use_empty=True)
        views = [lens_view(i, lens) for i, lens in enumerate(lenses)]
        results = {r.view.index: r for r in render_views(options, mesh=path, views=views)}
    for i, name in enumerate(CASES):
        lens, depth = lenses[i], results[i].depth
        ref, _, triangle, valid = reference_depth(lens, results[i].view.world_to_camera, mesh)
        inner = interior(triangle, objects) & np.isfinite(depth)
        error = np.abs(depth[inner] - ref[inner]) / size
        n = lens.spec.n_focal
        shifted = LensModel(lens.name, width, height, lens.params[:n] + (lens.params[n] + 0.5,) + lens.params[n + 1:])
        ref_shifted = reference_depth(shifted, results[i].view.world_to_camera, mesh)[0]
        both = inner & np.isfinite(ref_shifted)
        rows.append({"case": name, "valid": 100 * valid.mean(),
                     "mask": 100 * np.mean(np.isfinite(depth) == np.isfinite(ref)),
                     "max": float(error.max()), "p99": float(np.percentile(error, 99)), "interior": int(inner.sum()),
                     "shift": float(np.percentile(np.abs(depth[both] - ref_shifted[both]) / size, 99))})
    return rows


def _job_rate(path: str, out: str, options) -> dict:
    import bpy

    from depth_views.inputs.scene_import import load_input
    from depth_views.render.job import RenderJob
    from depth_views.resolved import resolve

    bpy.ops.wm.read_factory_settings(use_empty=True)
    times, cropped, area = [], 0, 0.0
    started = time.perf_counter()
    with RenderJob(load_input(path), out, resolve(options)) as job:
        while not job.finished:
            job.step()
            times.append(time.perf_counter())
            box = job._renderer._crop_box
            cropped += box is not None
            width, height = options.resolution
            area += 1.0 if box is None else (box[1] - box[0]) * (box[3] - box[2]) / (width * height)
        job.finish()
    steady = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else float("nan")
    return {"first_view_s": times[0] - started, "steady": steady, "cropped": cropped, "views": len(times),
            "area": area / len(times)}


def speed(width: int, height: int, n_views: int) -> list[dict]:
    """views/s of scan_5k through each lens model and through the plain camera of the same K."""
    from lens_cases import lens_case

    from depth_views.options import RenderOptions

    rows = []
    with tempfile.TemporaryDirectory(prefix="dv-bench-lens-") as scratch:
        scan = write_ply(os.path.join(scratch, "scan_5k.ply"), *make_mesh("scan_5k"))
        plain = lens_case("OPENCV", width, height)
        (fx, fy), (cx, cy) = plain.focal, plain.principal_point
        cases = [("perspective (Blender's, same K)", RenderOptions(intrinsics=(fx, fy, cx, cy)))]
        cases += [(name, RenderOptions(lens_model=lens_case(name, width, height).name,
                                       lens_params=lens_case(name, width, height).params)) for name in SPEED_MODELS]
        for label, options in cases:
            options.views, options.resolution, options.exr_compression = n_views, (width, height), "none"
            rows.append({"model": label, **_job_rate(scan, os.path.join(scratch, label.split()[0]), options)})
            print(f"{label}: {rows[-1]['steady']:.1f} views/s", file=sys.stderr)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, nargs=2, default=(256, 192), metavar=("W", "H"),
                        help="image size of the speed runs (default 256 192)")
    parser.add_argument("--views", type=int, default=12, help="views per model in the speed runs (default 12)")
    parser.add_argument("--exact-size", type=int, nargs=2, default=(64, 48), metavar=("W", "H"),
                        help="image size of the exactness runs (default 64 48)")
    args = parser.parse_args(argv)

    import bpy

    from depth_views.batch.in_process import silenced_stdout_fd   # Blender's own prints off the table

    with silenced_stdout_fd():
        exact = exactness(*args.exact_size)
        rates = speed(*args.size, args.views)
    print(f"Blender {bpy.app.version_string}; exactness at {args.exact_size[0]}x{args.exact_size[1]} "
          "(one view per model, the asymmetric object above a floor, object size = its bounding-box diagonal)\n")
    print("| lens case | pixels with a ray | surface mask = reference | max error / size | p99 | interior px "
          "| a 0.5 px shift would give (p99) |")
    print("|---|---|---|---|---|---|---|")
    for row in exact:
        print(f"| {row['case']} | {row['valid']:.1f} % | {row['mask']:.2f} % | {row['max']:.1e} | {row['p99']:.1e} "
              f"| {row['interior']} | {row['shift']:.1e} |")
    base = rates[0]["steady"]
    print(f"\nSpeed: scan_5k, {args.size[0]}x{args.size[1]}, {args.views} views per model, CPU "
          f"({os.cpu_count()} cores), load average {os.getloadavg()[0]:.1f}\n")
    print("| camera | views/s (steady) | vs perspective | first view (s) | render border | pixels rendered |")
    print("|---|---|---|---|---|---|")
    for row in rates:
        border = f"{row['cropped']}/{row['views']} views" if row["cropped"] else "no (whole frame)"
        print(f"| {row['model']} | {row['steady']:.1f} | {row['steady'] / base:.2f} | {row['first_view_s']:.2f} "
              f"| {border} | {100 * row['area']:.0f} % |")
    return 0 if all(row["max"] < 1e-4 and row["mask"] > 99.9 for row in exact) else 1


if __name__ == "__main__":
    raise SystemExit(main())
