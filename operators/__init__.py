"""Operators: thin wrappers that read the scene's settings, call the core and report."""

from __future__ import annotations

import os

import bpy

from .. import compositor
from ..errors import DepthViewsError
from ..pipeline import render_scene
from ..scene_import import LoadedInput, render_geometry_objects


def _output_dir(context) -> str:
    return os.path.abspath(bpy.path.abspath(context.scene.depth_views.output_dir))


class DEPTHVIEWS_OT_render(bpy.types.Operator):
    """Render metric depth EXRs of the scene's visible objects from cameras on a sphere"""

    bl_idname = "depth_views.render"
    bl_label = "Render Depth Views"
    bl_options = {"REGISTER"}

    def execute(self, context):
        scene = context.scene
        settings = scene.depth_views
        output_dir = _output_dir(context)
        name = bpy.data.filepath or scene.name
        loaded = LoadedInput(name, scene, render_geometry_objects(scene), units="Blender units")
        options = settings.render_options()
        window_manager = context.window_manager
        window_manager.progress_begin(0, options.views)
        try:
            report = render_scene(loaded, output_dir, options,
                                  on_view=lambda done, total: window_manager.progress_update(done))
        except DepthViewsError as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        finally:
            window_manager.progress_end()
        settings.last_output = f"{report.n_views} views in {output_dir}"
        self.report({"INFO"}, f"Depth Views: wrote {report.n_views} views to {output_dir}")
        return {"FINISHED"}


class DEPTHVIEWS_OT_setup_depth_output(bpy.types.Operator):
    """Wire the compositor so every F12 render also writes a 32-bit float metric depth EXR"""

    bl_idname = "depth_views.setup_depth_output"
    bl_label = "Set Up Depth Output"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        try:
            compositor.build_depth_output_tree(context.scene, _output_dir(context),
                                               view_layer=context.view_layer)
        except DepthViewsError as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Depth Views: F12 renders now write depth EXRs to {_output_dir(context)}")
        return {"FINISHED"}


class DEPTHVIEWS_OT_remove_depth_output(bpy.types.Operator):
    """Remove the compositor nodes that Set Up Depth Output added (your own nodes stay)"""

    bl_idname = "depth_views.remove_depth_output"
    bl_label = "Remove Depth Output"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        removed = compositor.remove_depth_output_tree(context.scene)
        self.report({"INFO"}, f"Depth Views: removed {removed} compositor nodes")
        return {"FINISHED"}


CLASSES = (DEPTHVIEWS_OT_render, DEPTHVIEWS_OT_setup_depth_output, DEPTHVIEWS_OT_remove_depth_output)
