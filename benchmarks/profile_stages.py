"""Where does a view's time go?  Per-stage timers for our render loop, with optional setting variants.

Run with a Python that has ``bpy`` and ``depth_views``::

    python benchmarks/profile_stages.py --mesh sphere_32k --resolution 512 --views 24 \
        [--variant NAME ...] [--json OUT]

Stages per view (whole frame, no render border): moving the camera, ``bpy.ops.render.render`` (Cycles sync + render + compositor
+ EXR write into tmpfs), reading the EXR back, and, like the CLI, writing the output EXR (zip).
``--variant`` applies an experimental setting on top of DepthRenderer's own set-up; these are the
attempts recorded in ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bpy  # noqa: E402

from bench_meshes import ensure_mesh  # noqa: E402
from depth_views.exr_io import read_depth, write_depth  # noqa: E402
from depth_views.options import RenderOptions  # noqa: E402
from depth_views.render.plan import plan_views  # noqa: E402
from depth_views.resolved import resolve  # noqa: E402
from depth_views.render.renderer import DepthRenderer  # noqa: E402
from depth_views.inputs.scene_import import load_input  # noqa: E402


def _world_none(renderer):
    renderer.scene.world = None


def _threads(n):
    def apply(renderer):
        renderer.scene.render.threads_mode = "FIXED"
        renderer.scene.render.threads = n
    return apply


def _tile(size):
    def apply(renderer):
        renderer.scene.cycles.use_auto_tile = size > 0
        if size > 0:
            renderer.scene.cycles.tile_size = size
    return apply


def _set(path, value):
    def apply(renderer):
        owner_path, name = path.rsplit(".", 1)
        setattr(_resolve(renderer, owner_path.split(".")), name, value)
    return apply


def _codec(name):
    def apply(renderer):
        from depth_views import compositor
        compositor.build_depth_output_tree(renderer.scene, renderer._scratch, codec=name)
    return apply


VARIANTS = {
    "world_none": _world_none,
    "threads1": _threads(1),
    "threads2": _threads(2),
    "tile64": _tile(64),
    "tile256": _tile(256),
    "tile_off": _tile(0),
    "no_persistent": _set("scene.render.use_persistent_data", False),
    "film_transparent": _set("scene.render.film_transparent", True),
    "no_combined": _set("scene.view_layers.0.use_pass_combined", False),
    "filter_box": _set("scene.cycles.pixel_filter_type", "BOX"),
    "no_light_tree": _set("scene.cycles.use_light_tree", False),
    "scratch_codec_zip": _codec("ZIP"),
    "bvh_static": _set("scene.cycles.debug_bvh_type", "STATIC_BVH"),
    "spatial_splits": _set("scene.cycles.debug_use_spatial_splits", True),
    "no_compact_bvh": _set("scene.cycles.debug_use_compact_bvh", False),
    "no_override": None,  # handled at construction
}


def _resolve(owner, path):
    for part in path:
        owner = owner[int(part)] if part.isdigit() else getattr(owner, part)
    return owner


def _apply(renderer, name):
    if VARIANTS[name] is not None:
        VARIANTS[name](renderer)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mesh", default="sphere_32k")
    parser.add_argument("--mesh-dir", default=os.path.join(tempfile.gettempdir(), "depth-views-bench-meshes"))
    parser.add_argument("--resolution", type=int, default=512)
    parser.add_argument("--views", type=int, default=24)
    parser.add_argument("--engine", default="cycles")
    parser.add_argument("--variant", action="append", default=[], choices=sorted(VARIANTS))
    parser.add_argument("--json", help="write the timings here")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    path = ensure_mesh(args.mesh, args.mesh_dir)
    loaded = load_input(path)
    setup = resolve(RenderOptions(views=args.views, resolution=(args.resolution, args.resolution),
                                  engine=args.engine, keep_transparency="no_override" in args.variant))
    plan = plan_views(loaded, setup)
    imported = time.perf_counter()
    renderer = DepthRenderer(setup, plan, scene=loaded.scene)
    stages = {"camera": [], "render_op": [], "read_back": [], "write_output": []}
    out = tempfile.mkdtemp(prefix="dv-profile-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    with renderer:
        for name in args.variant:
            _apply(renderer, name)
        set_up = time.perf_counter()
        for view in plan.views:
            t0 = time.perf_counter()
            from mathutils import Matrix
            renderer.camera.matrix_world = Matrix(view.camera_to_world.tolist())
            for stale in glob.glob(os.path.join(renderer._scratch, "*")):
                os.remove(stale)
            t1 = time.perf_counter()
            bpy.ops.render.render(write_still=False, scene=renderer.scene.name)
            t2 = time.perf_counter()
            written = glob.glob(os.path.join(renderer._scratch, "*.exr"))
            depth = read_depth(written[0], allow_constant=True)
            os.remove(written[0])
            t3 = time.perf_counter()
            write_depth(os.path.join(out, f"{view.index:04d}.exr"), depth, K=plan.intrinsics.K,
                        world_to_camera=view.world_to_camera, camera_to_world=view.camera_to_world,
                        metadata={"view_index": view.index}, compression="zip")
            t4 = time.perf_counter()
            for key, dt in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                stages[key].append(dt)
    finished = time.perf_counter()
    for stale in glob.glob(os.path.join(out, "*")):
        os.remove(stale)
    os.rmdir(out)
    steady = {key: 1000 * statistics.median(values[1:] or values) for key, values in stages.items()}
    first = {key: 1000 * values[0] for key, values in stages.items()}
    result = {"mesh": args.mesh, "resolution": args.resolution, "views": args.views, "variants": args.variant,
              "blender": bpy.app.version_string, "load_average": os.getloadavg(),
              "import_and_plan_s": imported - started, "set_up_s": set_up - imported,
              "loop_s": finished - set_up, "first_view_ms": first, "median_view_ms": steady,
              "views_per_s_loop": args.views / (finished - set_up)}
    print(json.dumps(result, indent=1))
    if args.json:
        with open(args.json, "w") as stream:
            json.dump(result, stream, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
