"""Ours through the in-memory API: ``load_input`` then ``render.render_views`` into numpy arrays.

Job keys used: ``meshes`` (list of {path, views, width, height, lens_mm, sensor_mm, clip_start,
clip_end}), ``engine``, ``threads`` (0 = Blender's automatic thread count), ``save_dir``.
"""

from __future__ import annotations

import os

from common import Clock, read_job, write_result

clock = Clock()
import bpy  # noqa: E402
import numpy as np  # noqa: E402

from depth_views.render.allocator import keep_freed_memory  # noqa: E402
from depth_views.cameras import Intrinsics, View  # noqa: E402
from depth_views.render.renderer import render_views  # noqa: E402
from depth_views.inputs.scene_import import load_input, world_vertices_and_face_count  # noqa: E402

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
        intrinsics = Intrinsics(item["width"], item["height"], lens_mm=item["lens_mm"], sensor_mm=item["sensor_mm"])
        views = [View(v["index"], v["azimuth_deg"], v["elevation_deg"], v["radius"],
                      np.asarray(v["camera_to_world"]), np.asarray(v["world_to_camera"])) for v in item["views"]]
        # a mesh file's vertices bound everything it renders: Cycles renders only the pixels they cover
        vertices, _ = world_vertices_and_face_count(loaded.objects)
        clock.mark(f"loaded:{os.path.basename(item['path'])}")
        for result in render_views(views, intrinsics, scene=loaded.scene, engine=job.get("engine", "cycles"),
                                   clip_start=item["clip_start"], clip_end=item["clip_end"],
                                   bounds_points=vertices):
            clock.view()
            if save_dir:
                stem = os.path.splitext(os.path.basename(item["path"]))[0]
                np.save(os.path.join(save_dir, f"{stem}_{result.view.index:04d}.npy"), result.depth)
    write_result({"system": "ours-api", "blender": bpy.app.version_string, **clock.as_dict()})


if __name__ == "__main__":
    main()
