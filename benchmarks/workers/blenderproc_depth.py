"""Reference 2: BlenderProc's depth-only rendering on the pip ``bpy`` 4.2 module.

Run with ``USE_EXTERNAL_BPY_MODULE=1`` and the folder that holds BlenderProc's ``blenderproc/``
package in ``job["blenderproc_dir"]``.  Set up as its documentation suggests for depth only:
``enable_depth_output(activate_antialiasing=False)``, ``set_max_amount_of_samples(1)``, no
denoiser; cameras from the job's ``K`` and Blender-axes ``camera_to_world`` poses.  BlenderProc
renders every pose as one animation and loads every frame into memory; a ``render_write`` handler
timestamps each frame as it is written.  Job keys as in ``ours_api.py`` plus ``blenderproc_dir``.
"""

from __future__ import annotations

import os
import sys

from common import Clock, read_job, write_result

clock = Clock()
job = read_job()
sys.path.insert(0, job["blenderproc_dir"])
import blenderproc as bproc  # noqa: E402  (removes its parent folder from sys.path again)
import bpy  # noqa: E402
import numpy as np  # noqa: E402

clock.mark("imported")


def main() -> None:
    if len(job["meshes"]) != 1:
        raise SystemExit("the BlenderProc worker renders one mesh per process")
    item = job["meshes"][0]
    bproc.init()
    bproc.loader.load_obj(item["path"])
    K = np.asarray(item["K"], dtype=np.float64)
    bproc.camera.set_intrinsics_from_K_matrix(K, item["width"], item["height"],
                                              clip_start=item["clip_start"], clip_end=item["clip_end"])
    for view in item["views"]:
        bproc.camera.add_camera_pose(np.asarray(view["camera_to_world"], dtype=np.float64))
    bproc.renderer.enable_depth_output(activate_antialiasing=False)
    bproc.renderer.set_max_amount_of_samples(1)
    bproc.renderer.set_denoiser(None)
    bpy.app.handlers.render_write.append(lambda *args: clock.view())
    clock.mark(f"loaded:{os.path.basename(item['path'])}")
    data = bproc.renderer.render()
    clock.mark("returned")
    depth = data["depth"]
    save_dir = job.get("save_dir")
    if save_dir:
        stem = os.path.splitext(os.path.basename(item["path"]))[0]
        for view, array in zip(item["views"], depth):
            np.save(os.path.join(save_dir, f"{stem}_{view['index']:04d}.npy"), np.asarray(array, np.float32))
    write_result({"system": "blenderproc", "blender": bpy.app.version_string, "frames": len(depth),
                  **clock.as_dict()})


if __name__ == "__main__":
    main()
    # bpy 4.2 can crash while the interpreter shuts down after BlenderProc's clean-up (exit -11);
    # the result is written by then, so leave without the teardown.
    sys.stdout.flush()
    os._exit(0)
