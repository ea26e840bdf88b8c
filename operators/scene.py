"""The add-on's view of the open scene: which objects to render, the job that renders them, and
preview cameras that show the sampled sphere before rendering.  Needs bpy; no UI code.
"""

from __future__ import annotations

import math
import os

import bpy
import numpy as np
from mathutils import Matrix

from ..cameras.intrinsics import Intrinsics
from ..cameras.models import CameraModel
from ..errors import DepthViewsError
from ..inputs.scene_import import render_geometry_objects
from ..render.job import RenderJob, scene_input
from ..render.plan import ViewPlan, plan_views, restore_transforms, saved_transforms
from ..render.renderer import set_up_camera_model
from ..resolved import RenderSetup, resolve

PREVIEW_COLLECTION_NAME = "Depth Views Cameras"
PREVIEW_TAG = "depth_views_preview"


def target_objects(scene, settings, selected_objects) -> list:
    """The geometry objects the settings' Target names, in a stable order.

    Raises :class:`DepthViewsError` saying what to select when there is nothing to render.
    """
    visible = set(render_geometry_objects(scene))
    if settings.target == "SELECTED":
        objects = [obj for obj in selected_objects if obj in visible]
        what = "no selected mesh objects: select the objects to render, or set Target to Scene"
    elif settings.target == "COLLECTION":
        if settings.collection is None:
            raise DepthViewsError("Target is Collection but no collection is chosen")
        objects = [obj for obj in settings.collection.all_objects if obj in visible]
        what = f"collection {settings.collection.name!r} has no visible mesh objects"
    else:
        objects = [obj for obj in scene.objects if obj in visible]
        what = f"scene {scene.name!r} has no visible mesh objects"
    if not objects:
        raise DepthViewsError(what)
    return sorted(objects, key=lambda obj: obj.name)


def output_folder(settings) -> str:
    """The settings' output folder as an absolute path (``//`` is the .blend file's folder)."""
    if not settings.output_dir.strip():
        raise DepthViewsError("Output Folder is empty: choose a folder in the Output section")
    return os.path.abspath(bpy.path.abspath(settings.output_dir))


def scene_job(scene, settings, selected_objects) -> RenderJob:
    """A :class:`RenderJob` (not yet entered) for the panel's settings on ``scene``.

    Only the target objects are rendered; objects moved by Normalise are put back afterwards.
    """
    objects = target_objects(scene, settings, selected_objects)
    setup = resolve(settings.render_options(scene))   # the panel's settings, checked and their camera file read once
    return RenderJob(scene_input(scene, objects), output_folder(settings), setup,
                     restore_objects=True, only_objects=objects)


def plan_scene_views(scene, objects, setup: RenderSetup) -> ViewPlan:
    """Plan the views of ``objects`` as a render would, leaving every object where it was.

    With ``options.normalize`` the plan's poses are in the normalised frame; the returned plan's
    views are still the render's, and ``plan.object_to_world`` says how to map them back.
    """
    saved = saved_transforms(objects)
    try:
        return plan_views(scene_input(scene, objects), setup)
    finally:
        restore_transforms(saved)


def _preview_collection(scene, create: bool):
    collection = bpy.data.collections.get(PREVIEW_COLLECTION_NAME)
    if collection is None and create:
        collection = bpy.data.collections.new(PREVIEW_COLLECTION_NAME)
        collection[PREVIEW_TAG] = True
    if collection is not None and create and collection.name not in scene.collection.children:
        scene.collection.children.link(collection)
    return collection


def clear_preview_cameras(scene, *, keep_collection: bool = False) -> int:
    """Remove the preview cameras (and their collection, unless ``keep_collection``); return how many
    cameras were removed.  Objects the user put into the collection stay, and so does it then."""
    collection = _preview_collection(scene, create=False)
    if collection is None:
        return 0
    removed = 0
    for obj in list(collection.objects):
        if obj.get(PREVIEW_TAG):
            data = obj.data
            bpy.data.objects.remove(obj)
            if data is not None and data.users == 0:
                bpy.data.cameras.remove(data)
            removed += 1
    if not keep_collection and not collection.objects and not collection.children:
        bpy.data.collections.remove(collection)
    return removed


def preview_camera(model: CameraModel) -> CameraModel:
    """What a preview camera shows for ``model``: the model itself, or for a lens model (rendered through
    Cycles' Custom camera, which the viewport cannot draw) Blender's own camera of its undistorted part: the
    perspective camera of its K (pinhole family), the equidistant fisheye of its horizontal field (fisheyes)."""
    lens = model.lens
    if lens is None:
        return model
    (fx, fy), (cx, cy) = lens.focal, lens.principal_point
    if lens.family == "fisheye":
        return CameraModel.fisheye(lens.width, lens.height, min(360.0, math.degrees(lens.width / fx)))
    try:
        return CameraModel.perspective(Intrinsics.from_K(lens.width, lens.height, fx, fy, cx, cy))
    except DepthViewsError:   # a K Blender's lens shift cannot hold: its focal length, centred
        return CameraModel.perspective(Intrinsics.from_K(lens.width, lens.height, fx, fy, (lens.width - 1) / 2.0,
                                                         (lens.height - 1) / 2.0))


def add_preview_cameras(scene, settings, selected_objects) -> list:
    """Replace the preview set with one camera object per planned view; return the new objects.

    The cameras sit where the render's cameras will be relative to the objects (with Normalise on,
    the normalised poses are mapped back through ``object_to_world``), in the collection
    "Depth Views Cameras", and render nothing themselves (hidden from render).
    """
    objects = target_objects(scene, settings, selected_objects)
    plan = plan_scene_views(scene, objects, resolve(settings.render_options(scene)))
    clear_preview_cameras(scene, keep_collection=True)
    collection = _preview_collection(scene, create=True)
    world_from_render = (np.linalg.inv(plan.object_to_world) if plan.object_to_world is not None
                         else np.eye(4))
    model = plan.camera
    width = len(str(max(len(plan.views) - 1, 0)))
    created = []
    for view in plan.views:
        data = bpy.data.cameras.new(f"DV View {view.index:0{width}d}")
        # the render's own set-up: an ortho or panoramic camera shows as one; a pinhole one carries its K's
        # lens shift (pixel aspect is the scene's, not a camera's); a lens shows its undistorted part
        set_up_camera_model(data, preview_camera(model.for_view(view)), view.intrinsics)
        data.clip_start, data.clip_end = plan.clip_start, plan.clip_end
        obj = bpy.data.objects.new(data.name, data)
        obj[PREVIEW_TAG] = True
        obj.matrix_world = Matrix((world_from_render @ view.camera_to_world).tolist())
        obj.hide_render = True
        collection.objects.link(obj)
        created.append(obj)
    return created

