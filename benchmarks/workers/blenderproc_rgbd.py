"""BlenderProc rendering the same four outputs as ``depth-views ... --passes depth,normal,mask,rgb``.

Run like ``blenderproc_depth.py`` (``USE_EXTERNAL_BPY_MODULE=1``, pip ``bpy`` 4.2, a folder holding
BlenderProc's ``blenderproc/`` package in ``job["blenderproc_dir"]``).  One ``render()`` call with
colour (``samples`` samples, Intel's denoiser = OpenImageDenoise, transparent film, a uniform white
world of strength 1 as ``--rgb-lighting white``), depth (no antialiasing), normals and instance
segmentation, from our K and camera poses (taken from our run's cameras.json).  The file is
imported by BlenderProc's ``load_obj`` (OBJ with our axes; glTF's Y-up turn is applied to the poses).
"""

from __future__ import annotations

import os
import sys

from common import Clock, read_job, write_result

clock = Clock()
job = read_job()
sys.path.insert(0, job["blenderproc_dir"])
import blenderproc as bproc  # noqa: E402
import bpy  # noqa: E402
import numpy as np  # noqa: E402

clock.mark("imported")

GLTF_TO_BLENDER = np.array([[1, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=np.float64)


def main() -> None:
    item = job["meshes"][0]
    bproc.init()
    path = item["path"]
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".obj":
        bproc.loader.load_obj(path, forward_axis="Y", up_axis="Z")
    else:
        bproc.loader.load_obj(path)
    K = np.asarray(item["K"], dtype=np.float64)
    bproc.camera.set_intrinsics_from_K_matrix(K, item["width"], item["height"],
                                              clip_start=item["clip_start"], clip_end=item["clip_end"])
    for view in item["views"]:
        pose = np.asarray(view["camera_to_world"], dtype=np.float64)
        if suffix in (".glb", ".gltf"):
            pose = GLTF_TO_BLENDER @ pose
        bproc.camera.add_camera_pose(pose)
    bproc.renderer.set_world_background([1.0, 1.0, 1.0], strength=1.0)
    bproc.renderer.enable_depth_output(activate_antialiasing=False)
    bproc.renderer.enable_normals_output()
    bproc.renderer.enable_segmentation_output(map_by=["instance"])
    bproc.renderer.set_max_amount_of_samples(job.get("samples", 32))
    bproc.renderer.set_denoiser("INTEL")
    bproc.renderer.set_output_format(enable_transparency=True)
    bpy.app.handlers.render_write.append(lambda *args: clock.view())
    clock.mark("loaded")
    data = bproc.renderer.render()
    clock.mark("returned")
    write_result({"system": "blenderproc-rgbd", "blender": bpy.app.version_string,
                  "frames": len(data["colors"]), "outputs": sorted(data), **clock.as_dict()})
    save_dir = job.get("save_dir")
    if save_dir:
        from PIL import Image

        for view, colour in zip(item["views"], data["colors"]):
            Image.fromarray(np.asarray(colour, dtype=np.uint8)).save(
                os.path.join(save_dir, f"{view['index']:04d}.png"))


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)
