"""The "Depth Views" tab in the 3D viewport's sidebar (N panel)."""

from __future__ import annotations

import bpy


class DEPTHVIEWS_PT_main(bpy.types.Panel):
    bl_label = "Depth Views"
    bl_idname = "DEPTHVIEWS_PT_main"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Depth Views"

    def draw(self, context):
        settings = context.scene.depth_views
        layout = self.layout
        layout.use_property_split = True
        cameras = layout.column(heading="Cameras")
        cameras.prop(settings, "sampling")
        if settings.sampling == "grid":
            cameras.prop(settings, "grid_azimuth")
            cameras.prop(settings, "grid_elevation")
        else:
            cameras.prop(settings, "views")
        if settings.sampling == "random":
            cameras.prop(settings, "seed")
        cameras.prop(settings, "hemisphere")
        cameras.prop(settings, "radius_auto")
        row = cameras.row()
        row.enabled = not settings.radius_auto
        row.prop(settings, "radius")
        image = layout.column(heading="Image")
        image.prop(settings, "resolution_x")
        image.prop(settings, "resolution_y")
        image.prop(settings, "lens")
        image.prop(settings, "engine")
        layout.prop(settings, "output_dir")
        layout.operator("depth_views.render", icon="RENDER_STILL")
        row = layout.row(align=True)
        row.operator("depth_views.setup_depth_output")
        row.operator("depth_views.remove_depth_output", text="", icon="X")
        if settings.last_output:
            layout.label(text=f"Last: {settings.last_output}", icon="INFO")


CLASSES = (DEPTHVIEWS_PT_main,)
