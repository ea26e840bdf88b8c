"""Reference 1: planar depth by Embree ray casting from Python (``trimesh`` loads, ``embreex`` casts).

One primary ray per pixel through the pixel centre (OpenCV: pixel (u, v) is centred at (u, v)) with
the job's ``K`` and ``world_to_camera``.  Directions are ``R^T K^-1 (u, v, 1)``, so the hit distance
``tfar`` along them *is* planar depth.  Depth is a float32 (H, W) array, +inf where nothing is hit.
Job keys used: ``meshes`` (list of {path, views, K, width, height}), ``threads`` (rays split over
that many threads in one ``scene.run`` call each), ``save_dir`` (write ``<mesh>_<view>.npy``).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from common import Clock, read_job, write_result

clock = Clock()
import numpy as np  # noqa: E402
import trimesh  # noqa: E402
from embreex import rtcore_scene  # noqa: E402
from embreex.mesh_construction import TriangleMesh  # noqa: E402

clock.mark("imported")


def camera_rays(K, width, height):
    """Unit-z directions in OpenCV camera axes through every pixel centre, (H*W, 3) float64."""
    u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    return np.stack([(u - K[0][2]) / K[0][0], (v - K[1][2]) / K[1][1], np.ones_like(u)], -1).reshape(-1, 3)


def main() -> None:
    job = read_job()
    threads = int(job.get("threads", 1))
    pool = ThreadPoolExecutor(threads) if threads > 1 else None
    save_dir = job.get("save_dir")
    for item in job["meshes"]:
        mesh = trimesh.load(item["path"], process=False)
        scene = rtcore_scene.EmbreeScene()
        TriangleMesh(scene=scene, vertices=mesh.vertices.astype(np.float32),
                     indices=mesh.faces.astype(np.int32))
        width, height = item["width"], item["height"]
        directions_camera = camera_rays(item["K"], width, height)
        clock.mark(f"loaded:{os.path.basename(item['path'])}")
        for view in item["views"]:
            world_to_camera = np.asarray(view["world_to_camera"], dtype=np.float64)
            rotation = world_to_camera[:3, :3]
            position = -rotation.T @ world_to_camera[:3, 3]
            directions = (directions_camera @ rotation).astype(np.float32)   # rows: R^T d
            origins = np.broadcast_to(position.astype(np.float32), directions.shape).copy()
            if pool is None:
                tfar = scene.run(origins, directions, output=1)["tfar"]
            else:
                chunks = np.array_split(np.arange(len(directions)), threads)
                parts = pool.map(lambda c: scene.run(origins[c[0]:c[-1] + 1], directions[c[0]:c[-1] + 1],
                                                     output=1)["tfar"], chunks)
                tfar = np.concatenate(list(parts))
            depth = np.where(np.isfinite(tfar) & (tfar < 1e30), tfar, np.inf).astype(np.float32)
            depth = depth.reshape(height, width)
            clock.view()
            if save_dir:
                stem = os.path.splitext(os.path.basename(item["path"]))[0]
                np.save(os.path.join(save_dir, f"{stem}_{view['index']:04d}.npy"), depth)
    write_result({"system": "embree", "threads": threads, "trimesh": trimesh.__version__, **clock.as_dict()})


if __name__ == "__main__":
    main()
