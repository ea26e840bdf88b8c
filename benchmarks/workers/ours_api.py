"""Ours in memory: ``load_input``, the given views planned (``plan_views``) and rendered by ``DepthRenderer``
into numpy arrays, with the mesh's vertices bounding the render (what ``render_views`` does for a scene).

Job keys used: ``meshes`` (list of {path, views, width, height, lens_mm, sensor_mm, clip_start,
clip_end}), ``engine``, ``threads`` (0 = Blender's automatic thread count), ``save_dir``.
"""

from __future__ import annotations

import os

from common import Clock, read_job, write_result

clock = Clock()
import bpy  # noqa: E402
import numpy as np  # noqa: E402

from depth_views.cameras import View  # noqa: E402
from depth_views.inputs.scene_import import load_input  # noqa: E402
from depth_views.options import RenderOptions  # noqa: E402
from depth_views.render.allocator import keep_freed_memory  # noqa: E402
from depth_views.render.plan import plan_views, render_bounds  # noqa: E402
from depth_views.render.renderer import DepthRenderer  # noqa: E402
from depth_views.resolved import resolve  # noqa: E402

clock.mark("imported")


def main() -> None:
    job = read_job()
    keep_freed_memory()   # as the README recommends for a script that only renders
    save_dir = job.get("save_dir")
    for item in job["meshes"]:
        loaded = load_input(item["path"])
        threads = int(job.get("threads", 0))
        loaded.scene.render.threads_mode = "FIXED" if threads else "AUTO"
        if threads:
            loaded.scene.render.threads = threads
        setup = resolve(RenderOptions(resolution=(item["width"], item["height"]), lens=item["lens_mm"],
                                      sensor=item["sensor_mm"], engine=job.get("engine", "cycles"),
                                      clip_start=item["clip_start"], clip_end=item["clip_end"]))
        views = [View(v["index"], v["azimuth_deg"], v["elevation_deg"], v["radius"],
                      np.asarray(v["camera_to_world"]), np.asarray(v["world_to_camera"])) for v in item["views"]]
        plan = plan_views(loaded, setup, views=views)
        clock.mark(f"loaded:{os.path.basename(item['path'])}")
        # a mesh file's vertices bound everything it renders: Cycles renders only the pixels they cover
        with DepthRenderer(setup, plan, scene=loaded.scene, bounds_points=render_bounds(loaded, plan)) as renderer:
            for view in plan.views:
                result = renderer.view_result(view)
                clock.view()
                if save_dir:
                    stem = os.path.splitext(os.path.basename(item["path"]))[0]
                    np.save(os.path.join(save_dir, f"{stem}_{result.view.index:04d}.npy"), result.depth)
    write_result({"system": "ours-api", "blender": bpy.app.version_string, **clock.as_dict()})


if __name__ == "__main__":
    main()
