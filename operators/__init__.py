"""Operators: thin wrappers that read the scene's settings, call the core and report.

``Render Depth Views`` is modal in a window (a timer renders one view per tick, the progress bar and
status bar advance, Esc cancels) and blocking in background mode or when called from a script
without ``'INVOKE_DEFAULT'``.  Either way the scene is restored and errors go through
``self.report({'ERROR'}, ...)`` with ``CANCELLED``.
"""

from __future__ import annotations

import bpy

from .. import compositor
from ..errors import DepthViewsError
from .scene import add_preview_cameras, clear_preview_cameras, output_folder, scene_job

STATUS_PREFIX = "Depth Views"


def _finish_job(operator, settings, job) -> None:
    """Write cameras for the finished views, remember where they went, replay the writer's warnings."""
    report = job.finish()
    settings.last_output = job.output_dir
    settings.last_views = job.done
    for warning in report.warnings:
        operator.report({"WARNING"}, warning)


class DEPTHVIEWS_OT_render(bpy.types.Operator):
    """Render metric depth EXRs (float32, scene units) of the target objects from cameras on a sphere"""

    bl_idname = "depth_views.render"
    bl_label = "Render Depth Views"
    bl_options = {"REGISTER"}

    # -- blocking: background mode, scripts ------------------------------------------------------
    def execute(self, context):
        settings = context.scene.depth_views
        window_manager = context.window_manager
        try:
            job = scene_job(context.scene, settings, context.selected_objects)
            with job:
                window_manager.progress_begin(0, job.total)
                try:
                    while not job.finished:
                        window_manager.progress_update(job.step())
                finally:
                    window_manager.progress_end()
                    if job.plan is not None and job.done:
                        _finish_job(self, settings, job)
        except DepthViewsError as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        self.report({"INFO"}, f"{STATUS_PREFIX}: wrote {job.done} views to {job.output_dir}")
        return {"FINISHED"}

    # -- modal: in a window ------------------------------------------------------------------------
    def invoke(self, context, event):
        if bpy.app.background or context.window is None:
            return self.execute(context)
        settings = context.scene.depth_views
        try:
            self._job = scene_job(context.scene, settings, context.selected_objects)
            self._job.__enter__()
        except DepthViewsError as error:
            self._job = None
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        window_manager = context.window_manager
        window_manager.progress_begin(0, self._job.total)
        self._timer = window_manager.event_timer_add(0.01, window=context.window)
        window_manager.modal_handler_add(self)
        self._status(context)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        if event.type == "ESC" and event.value == "PRESS":
            done, total, folder = self._job.done, self._job.total, self._job.output_dir
            self._stop(context)
            self.report({"WARNING"}, f"{STATUS_PREFIX}: cancelled after {done} of {total} views; "
                                     f"the finished views are in {folder}")
            return {"CANCELLED"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        try:
            done = self._job.step()
        except Exception as error:
            self._stop(context)  # whatever failed, the timer goes and the scene is restored
            if not isinstance(error, DepthViewsError):
                raise
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        context.window_manager.progress_update(done)
        if not self._job.finished:
            self._status(context)
            return {"RUNNING_MODAL"}
        done, folder = self._job.done, self._job.output_dir
        self._stop(context)
        self.report({"INFO"}, f"{STATUS_PREFIX}: wrote {done} views to {folder}")
        return {"FINISHED"}

    def _status(self, context) -> None:
        text = f"{STATUS_PREFIX}: view {self._job.done + 1} of {self._job.total} - Esc to cancel"
        if context.workspace is not None:
            context.workspace.status_text_set(text)

    def _stop(self, context) -> None:
        """Write cameras for the finished views, restore the scene, end progress and the timer."""
        window_manager = context.window_manager
        window_manager.event_timer_remove(self._timer)
        window_manager.progress_end()
        if context.workspace is not None:
            context.workspace.status_text_set(None)
        job, self._job = self._job, None
        try:
            if job.done:
                _finish_job(self, context.scene.depth_views, job)
        finally:
            job.close()
        for area in context.screen.areas if context.screen else ():
            area.tag_redraw()


class DEPTHVIEWS_OT_preview_cameras(bpy.types.Operator):
    """Add the sampled cameras as camera objects in the collection "Depth Views Cameras" (replaces the previous set)"""

    bl_idname = "depth_views.preview_cameras"
    bl_label = "Preview Cameras"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        try:
            cameras = add_preview_cameras(context.scene, context.scene.depth_views, context.selected_objects)
        except DepthViewsError as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        self.report({"INFO"}, f"{STATUS_PREFIX}: added {len(cameras)} preview cameras")
        return {"FINISHED"}


class DEPTHVIEWS_OT_clear_preview(bpy.types.Operator):
    """Remove the preview cameras that Preview Cameras added"""

    bl_idname = "depth_views.clear_preview"
    bl_label = "Clear Preview"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        removed = clear_preview_cameras(context.scene)
        self.report({"INFO"}, f"{STATUS_PREFIX}: removed {removed} preview cameras")
        return {"FINISHED"}


class DEPTHVIEWS_OT_setup_depth_output(bpy.types.Operator):
    """Enable the Depth pass and wire the compositor so every F12 render also writes a 32-bit float metric depth EXR"""

    bl_idname = "depth_views.setup_depth_output"
    bl_label = "Set Up Depth Output"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        try:
            folder = output_folder(context.scene.depth_views)
            compositor.build_depth_output_tree(context.scene, folder, view_layer=context.view_layer)
        except DepthViewsError as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        self.report({"INFO"}, f"{STATUS_PREFIX}: F12 renders now write depth EXRs to {folder}")
        return {"FINISHED"}


class DEPTHVIEWS_OT_remove_depth_output(bpy.types.Operator):
    """Remove the compositor nodes that Set Up Depth Output added (your own nodes stay)"""

    bl_idname = "depth_views.remove_depth_output"
    bl_label = "Remove Depth Output"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        removed = compositor.remove_depth_output_tree(context.scene)
        self.report({"INFO"}, f"{STATUS_PREFIX}: removed {removed} compositor nodes")
        return {"FINISHED"}


CLASSES = (DEPTHVIEWS_OT_render, DEPTHVIEWS_OT_preview_cameras, DEPTHVIEWS_OT_clear_preview,
           DEPTHVIEWS_OT_setup_depth_output, DEPTHVIEWS_OT_remove_depth_output)
