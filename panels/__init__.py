"""The "Depth Views" tab in the 3D viewport's sidebar (N panel): buttons on top, settings in
collapsible sections (Target, Cameras, Image, Output, F12 Depth Output)."""

from __future__ import annotations

import bpy

CATEGORY = "Depth Views"


class _SidebarPanel:
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = CATEGORY


class DEPTHVIEWS_PT_main(_SidebarPanel, bpy.types.Panel):
    bl_label = "Depth Views"
    bl_idname = "DEPTHVIEWS_PT_main"

    def draw(self, context):
        settings = context.scene.depth_views
        layout = self.layout
        layout.operator("depth_views.render", icon="RENDER_STILL")
        row = layout.row(align=True)
        row.operator("depth_views.preview_cameras", icon="OUTLINER_OB_CAMERA")
        row.operator("depth_views.clear_preview", text="", icon="X")
        if settings.last_output:
            layout.label(text=f"Last run: {settings.last_views} views", icon="INFO")
            layout.label(text=settings.last_output)


class DEPTHVIEWS_PT_target(_SidebarPanel, bpy.types.Panel):
    bl_label = "Target"
    bl_idname = "DEPTHVIEWS_PT_target"
    bl_parent_id = "DEPTHVIEWS_PT_main"

    def draw(self, context):
        settings = context.scene.depth_views
        layout = self.layout
        layout.use_property_split = True
        layout.prop(settings, "target")
        if settings.target == "COLLECTION":
            layout.prop(settings, "collection")
        layout.prop(settings, "normalize")


class DEPTHVIEWS_PT_cameras(_SidebarPanel, bpy.types.Panel):
    bl_label = "Cameras"
    bl_idname = "DEPTHVIEWS_PT_cameras"
    bl_parent_id = "DEPTHVIEWS_PT_main"

    def draw(self, context):
        settings = context.scene.depth_views
        layout = self.layout
        layout.use_property_split = True
        layout.prop(settings, "camera_source", text="From")
        if settings.camera_source == "FILE":
            layout.prop(settings, "camera_file", text="File")
            layout.prop(settings, "pose_convention", text="Poses")
            return
        layout.prop(settings, "sampling")
        if settings.sampling == "grid":
            layout.prop(settings, "grid_azimuth")
            layout.prop(settings, "grid_elevation")
        else:
            layout.prop(settings, "views")
        if settings.sampling == "random":
            layout.prop(settings, "seed")
        layout.prop(settings, "radius_auto")
        row = layout.row()
        row.enabled = not settings.radius_auto
        row.prop(settings, "radius")
        layout.prop(settings, "center")
        layout.prop(settings, "hemisphere")
        layout.prop(settings, "use_elevation_band")
        column = layout.column(align=True)
        column.enabled = settings.use_elevation_band
        column.prop(settings, "elevation_min", text="Min")
        column.prop(settings, "elevation_max", text="Max")
        draw_camera_model(layout, settings)


def draw_camera_model(layout, settings) -> None:
    """The camera model and the settings of the chosen one (Cameras section)."""
    layout.prop(settings, "camera_model", text="Model")
    if settings.camera_model == "orthographic":
        layout.prop(settings, "ortho_scale_auto", text="Fit Scale")
        row = layout.row()
        row.enabled = not settings.ortho_scale_auto
        row.prop(settings, "ortho_scale", text="Scale")
    elif settings.camera_model == "fisheye":
        layout.prop(settings, "fisheye_fov", text="FOV")
    elif settings.camera_model == "equirectangular":
        column = layout.column(align=True)
        column.prop(settings, "longitude_min", text="Lon. Min")
        column.prop(settings, "longitude_max", text="Max")
        column = layout.column(align=True)
        column.prop(settings, "latitude_min", text="Lat. Min")
        column.prop(settings, "latitude_max", text="Max")


class DEPTHVIEWS_PT_image(_SidebarPanel, bpy.types.Panel):
    bl_label = "Image and Lens"
    bl_idname = "DEPTHVIEWS_PT_image"
    bl_parent_id = "DEPTHVIEWS_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        settings = context.scene.depth_views
        layout = self.layout
        layout.use_property_split = True
        column = layout.column(align=True)
        column.prop(settings, "resolution_x")
        column.prop(settings, "resolution_y")
        column = layout.column()
        column.enabled = settings.camera_model == "perspective"  # the other models have their own settings
        column.prop(settings, "lens_unit")
        column.prop(settings, "fov" if settings.lens_unit == "FOV" else "lens")
        layout.prop(settings, "clip_auto")
        column = layout.column(align=True)
        column.enabled = not settings.clip_auto
        column.prop(settings, "clip_start")
        column.prop(settings, "clip_end", text="End")
        layout.prop(settings, "engine")


class DEPTHVIEWS_PT_output(_SidebarPanel, bpy.types.Panel):
    bl_label = "Output"
    bl_idname = "DEPTHVIEWS_PT_output"
    bl_parent_id = "DEPTHVIEWS_PT_main"

    def draw(self, context):
        settings = context.scene.depth_views
        layout = self.layout
        layout.use_property_split = True
        layout.prop(settings, "output_dir", text="Folder")
        layout.column(align=True).prop(settings, "passes")
        layout.column(align=True).prop(settings, "formats")
        if "exr" in settings.formats:
            layout.prop(settings, "exr_compression")
        if "png16" in settings.formats:
            layout.prop(settings, "png16_scale")
        if settings.formats & {"preview", "contact_sheet"}:
            layout.prop(settings, "preview_range")
            if settings.preview_range == "fixed":
                column = layout.column(align=True)
                column.prop(settings, "preview_near", text="Near")
                column.prop(settings, "preview_far", text="Far")
            layout.prop(settings, "preview_colormap")
            layout.prop(settings, "preview_invert")
        if "rgb" in settings.passes:
            layout.prop(settings, "rgb_engine")
            if settings.rgb_engine == "cycles":
                layout.prop(settings, "rgb_samples")
            layout.prop(settings, "rgb_exr")
        row = layout.row()
        row.use_property_split = False   # the whole width: room for the option's full name
        row.prop(settings, "keep_transparency")


class DEPTHVIEWS_PT_compositor(_SidebarPanel, bpy.types.Panel):
    bl_label = "F12 Depth Output"
    bl_idname = "DEPTHVIEWS_PT_compositor"
    bl_parent_id = "DEPTHVIEWS_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        layout = self.layout
        layout.label(text="F12 also writes depth EXRs")
        row = layout.row(align=True)
        row.operator("depth_views.setup_depth_output")
        row.operator("depth_views.remove_depth_output", text="", icon="X")


CLASSES = (DEPTHVIEWS_PT_main, DEPTHVIEWS_PT_target, DEPTHVIEWS_PT_cameras, DEPTHVIEWS_PT_image,
           DEPTHVIEWS_PT_output, DEPTHVIEWS_PT_compositor)
