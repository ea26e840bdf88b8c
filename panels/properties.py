"""Settings of the add-on, stored on the Scene (``scene.depth_views``) so they are saved in the .blend.

Every field's tooltip says its unit.  :meth:`DepthViewsSettings.render_options` turns the settings
into the same :class:`~depth_views.options.RenderOptions` the CLI and the Python API use.
"""

from __future__ import annotations

import math

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, PointerProperty, StringProperty

from ..errors import DepthViewsError
from ..options import FORMATS, PASSES, RenderOptions

DEFAULTS = RenderOptions()

TARGETS = [
    ("SELECTED", "Selected", "Render the selected objects only; everything else is hidden while rendering"),
    ("COLLECTION", "Collection", "Render the objects of one collection (and its child collections)"),
    ("SCENE", "Scene", "Render every visible object of the scene"),
]
CENTERS = [
    ("BOUNDS", "Bounds", "Cameras look at the centre of the target objects' bounding box"),
    ("CURSOR", "3D Cursor", "Cameras look at the 3D cursor"),
    ("ORIGIN", "Origin", "Cameras look at (0, 0, 0)"),
]


class DepthViewsSettings(bpy.types.PropertyGroup):
    """Target, camera sphere, image and output settings of the Depth Views panel."""

    # -- target ------------------------------------------------------------------------------------
    target: EnumProperty(name="Target", default="SELECTED", items=TARGETS,
                         description="Which objects are rendered")
    collection: PointerProperty(name="Collection", type=bpy.types.Collection,
                                description="Collection to render when Target is Collection")
    normalize: BoolProperty(name="Normalise", default=False,
                            description="Normalise to a unit sphere: while rendering, centre the targets and scale them into a sphere of "
                                        "radius 0.5 scene units; the transform is written to cameras.json "
                                        "(object_to_world) and the objects are put back afterwards")

    # -- cameras -----------------------------------------------------------------------------------
    sampling: EnumProperty(name="Sampling", default=DEFAULTS.sampling, items=[
        ("fibonacci", "Fibonacci", "Evenly spread cameras (golden-angle lattice)"),
        ("random", "Random", "Uniformly random on the sphere, reproducible by seed"),
        ("grid", "Grid", "Azimuth x elevation grid")], description="How cameras are placed on the sphere")
    views: IntProperty(name="Views", default=DEFAULTS.views, min=1, soft_max=1000,
                       description="Number of cameras on the sphere (a count)")
    seed: IntProperty(name="Seed", default=0, min=0, description="Seed of the random sampling (an integer)")
    grid_azimuth: IntProperty(name="Azimuths", default=8, min=1,
                              description="Grid columns: number of azimuth angles (a count)")
    grid_elevation: IntProperty(name="Elevations", default=3, min=1,
                                description="Grid rows: number of elevation angles (a count)")
    radius_auto: BoolProperty(name="Fit Radius", default=True,
                              description="Place cameras so the targets' bounding sphere fills the view "
                                          "with a 10% margin; off: use Radius")
    radius: FloatProperty(name="Radius", default=3.0, min=1e-6, unit="LENGTH",
                          description="Camera distance from the centre, in scene units")
    center: EnumProperty(name="Centre", default="BOUNDS", items=CENTERS,
                         description="The point every camera looks at")
    hemisphere: BoolProperty(name="Upper Half", default=False,
                             description="Upper hemisphere only: cameras at elevation >= 0 degrees (above the centre)")
    use_elevation_band: BoolProperty(name="Elevation", default=False,
                                     description="Elevation band: limit cameras to an elevation band (degrees above the "
                                                 "horizontal plane through the centre)")
    elevation_min: FloatProperty(name="Min Elevation", default=math.radians(-30), min=-math.pi / 2,
                                 max=math.pi / 2, subtype="ANGLE", unit="ROTATION",
                                 description="Lowest camera elevation, in degrees (-90 = straight below)")
    elevation_max: FloatProperty(name="Max Elevation", default=math.radians(60), min=-math.pi / 2,
                                 max=math.pi / 2, subtype="ANGLE", unit="ROTATION",
                                 description="Highest camera elevation, in degrees (90 = straight above)")

    # -- cameras people bring (docs/camera-files.md) -------------------------------------------------
    camera_source: EnumProperty(name="Cameras From", default="SPHERE", items=[
        ("SPHERE", "Sphere", "Cameras sampled on a sphere around the targets (the settings below)"),
        ("FILE", "From File", "Exactly the views of a camera file, in its order, with its intrinsics: "
                              "transforms.json, a COLMAP model, a Depth Views cameras.json or a .npy/.npz of poses")],
        description="Where the cameras come from")
    camera_file: StringProperty(name="Camera File", default="", subtype="FILE_PATH",
                                description="transforms.json / transforms_*.json, COLMAP cameras.txt/images.txt "
                                            "or .bin (or its folder), cameras.json, or .npy/.npz of 4x4 poses; "
                                            "poses in scene units and the world frame")
    pose_convention: EnumProperty(name="Pose Convention", default="opengl", items=[
        ("opengl", "GL c2w", "OpenGL camera-to-world: 4x4 camera-to-world, camera looks down -z with y up (Blender)"),
        ("opencv", "CV c2w", "OpenCV camera-to-world: 4x4 camera-to-world, camera looks down +z with y down"),
        ("opencv_w2c", "CV w2c", "OpenCV world-to-camera: 4x4 world-to-camera, OpenCV axes")],
        description="What the matrices of a .npy/.npz camera file are (other files say it themselves)")

    # -- image -------------------------------------------------------------------------------------
    resolution_x: IntProperty(name="Width", default=512, min=1, max=65536, subtype="PIXEL",
                              description="Image width in pixels")
    resolution_y: IntProperty(name="Height", default=512, min=1, max=65536, subtype="PIXEL",
                              description="Image height in pixels")
    lens_unit: EnumProperty(name="Lens Unit", default="LENS", items=[
        ("LENS", "Millimetres", "Set the lens as a focal length in millimetres"),
        ("FOV", "Degrees", "Set the lens as a field of view in degrees")],
        description="How the lens is given")
    lens: FloatProperty(name="Focal", default=DEFAULTS.lens, min=1e-3, unit="CAMERA",
                        description="Focal length in millimetres (36 mm sensor across the larger image side)")
    fov: FloatProperty(name="FOV", default=math.radians(39.6), min=math.radians(0.1),
                       max=math.radians(179), subtype="ANGLE", unit="ROTATION",
                       description="Field of view across the larger image side, in degrees")
    clip_auto: BoolProperty(name="Auto Clip", default=True,
                            description="Choose clip start/end from the targets' size so nothing is clipped")
    clip_start: FloatProperty(name="Clip Start", default=0.1, min=1e-6, unit="LENGTH",
                              description="Near clip distance, in scene units")
    clip_end: FloatProperty(name="Clip End", default=100.0, min=1e-6, unit="LENGTH",
                            description="Far clip distance, in scene units")
    engine: EnumProperty(name="Engine", default="cycles", items=[
        ("cycles", "Cycles", "Exact planar depth at pixel centres (recommended)"),
        ("workbench", "Workbench", "Rasterised depth, fast"),
        ("eevee", "EEVEE", "Rasterised depth")], description="Render engine used for depth")

    # -- output ------------------------------------------------------------------------------------
    output_dir: StringProperty(name="Output Folder", default="//depth_views/", subtype="DIR_PATH",
                               description="Folder for depth/NNNN.exr (float32, scene units), cameras.json "
                                           "and transforms.json; // means next to the .blend file")
    exr_compression: EnumProperty(name="Codec", default=DEFAULTS.exr_compression, items=[
        ("zip", "ZIP", "Lossless, small files (default)"),
        ("none", "None", "Uncompressed, fastest to write"),
        ("zips", "ZIPS", "Lossless, one scanline per block"),
        ("piz", "PIZ", "Lossless wavelet"),
        ("rle", "RLE", "Lossless run-length")], description="EXR codec: the lossless compression of the written EXRs")

    passes: EnumProperty(name="Passes", options={"ENUM_FLAG"}, default={"depth"}, items=[
        ("depth", "Depth", "Planar depth along the camera axis, in scene units (always rendered)"),
        ("distance", "Distance", "Euclidean distance from the camera centre, in scene units"),
        ("normal", "Normal", "Unit surface normals, in world and in OpenCV camera axes"),
        ("rgb", "RGB", "A shaded colour render (8-bit sRGB PNG; linear EXR with RGB EXR)"),
        ("mask", "Mask", "Per-pixel object id (uint16 PNG, 0 = background) and a binary alpha"),
        ("xyz", "XYZ", "World coordinates of the surface at each pixel (float32 EXR, NaN = no surface)")],
        description="Which passes are written for every view")
    formats: EnumProperty(name="Formats", options={"ENUM_FLAG"}, default={"exr"}, items=[
        ("exr", "EXR", "float32 OpenEXR per view (never half float)"),
        ("png16", "PNG16", "uint16 PNG per view with a fixed metric scale (PNG16 Scale units per count)"),
        ("preview", "Preview", "8-bit colour-mapped PNG per view, for looking, not for data"),
        ("npz", "NPZ", "All views in one compressed numpy file"),
        ("contact_sheet", "Contact Sheet", "One PNG tiling every view's preview"),
        ("ply", "PLY", "A point cloud per view, world frame"),
        ("fused_ply", "Fused PLY", "One point cloud of all views, world frame"),
        ("colmap", "COLMAP", "A COLMAP text model (colmap/cameras.txt, images.txt, points3D.txt)"),
        ("nerf_synthetic", "NeRF Synthetic", "transforms_train.json / transforms_test.json (needs the RGB pass)")],
        description="Which files the passes are written as")
    png16_scale: FloatProperty(name="Scale", default=DEFAULTS.png16_scale, min=1e-9, precision=6,
                               description="PNG16 scale: scene units per count: depth = value x scale "
                                           "(default 0.0001, i.e. 0 .. 6.5535 units)")
    preview_range: EnumProperty(name="Range", default=DEFAULTS.preview_range, items=[
        ("object", "Object", "Near/far from the object's bounding sphere seen from each camera: one "
                             "scale shared by all views"),
        ("view", "Per View", "Each view's own nearest and farthest surface"),
        ("fixed", "Fixed", "Preview Near and Preview Far, in scene units")],
        description="Preview range: which depth range the preview colours span")
    preview_near: FloatProperty(name="Preview Near", default=1.0, min=0.0, unit="LENGTH",
                                description="Depth drawn in the near colour, in scene units (Fixed range)")
    preview_far: FloatProperty(name="Preview Far", default=5.0, min=0.0, unit="LENGTH",
                               description="Depth drawn in the far colour, in scene units (Fixed range)")
    preview_invert: BoolProperty(name="Invert", default=DEFAULTS.preview_invert,
                                 description="Far = bright instead of near = bright")
    preview_colormap: EnumProperty(name="Colours", default=DEFAULTS.preview_colormap, items=[
        ("turbo", "Turbo", "Rainbow-like, high contrast"), ("viridis", "Viridis", "Perceptually uniform")],
        description="Colour map of the previews (near is the top of the map)")
    rgb_engine: EnumProperty(name="RGB", default=DEFAULTS.rgb_engine, items=[
        ("cycles", "Cycles", "Path traced with RGB Samples"), ("workbench", "Workbench", "Fast solid shading"),
        ("eevee", "EEVEE", "Rasterised (slow without a GPU)")], description="Render engine of the RGB pass")
    rgb_samples: IntProperty(name="Samples", default=DEFAULTS.rgb_samples, min=1, soft_max=4096,
                             description="Cycles samples per pixel of the RGB pass (a count)")
    rgb_exr: BoolProperty(name="RGB EXR", default=DEFAULTS.rgb_exr,
                          description="Also write the RGB pass as a linear float32 EXR")
    keep_transparency: BoolProperty(name="Keep Transparency", default=DEFAULTS.keep_transparency,
                                    description="Keep Transparency: depth, normal and mask see through transparent materials (alpha "
                                                "below 0.5); off: every surface is opaque")

    # -- camera model (docs/camera-models.md) -----------------------------------------------------
    camera_model: EnumProperty(name="Camera Model", default=DEFAULTS.camera_model,
                               description="What kind of camera renders the views, and what a depth pixel means", items=[
        ("perspective", "Perspective", "Pinhole camera; depth = planar z"),
        ("orthographic", "Ortho", "Orthographic: parallel rays; depth = distance from the image plane"),
        ("fisheye", "Fisheye", "Equidistant fisheye (Cycles); depth = ray length"),
        ("equirectangular", "Equirect", "Equirectangular: 360-degree panorama (Cycles); depth = ray length")])
    ortho_scale_auto: BoolProperty(name="Fit Ortho Scale", default=True,
                                   description="Orthographic scale that fits the object (like Fit Radius)")
    ortho_scale: FloatProperty(name="Ortho Scale", default=2.0, min=1e-6, unit="LENGTH",
                               description="Scene units across the larger image side")
    fisheye_fov: FloatProperty(name="Fisheye FOV", default=math.radians(DEFAULTS.fisheye_fov),
                               min=math.radians(0.1), max=2 * math.pi, subtype="ANGLE",
                               description="Field of view across the width and across the height")
    longitude_min: FloatProperty(name="Longitude Min", default=-math.pi, min=-math.pi, max=math.pi,
                                 subtype="ANGLE", description="Equirectangular: leftmost longitude (0 = ahead)")
    longitude_max: FloatProperty(name="Longitude Max", default=math.pi, min=-math.pi, max=math.pi,
                                 subtype="ANGLE", description="Equirectangular: rightmost longitude")
    latitude_min: FloatProperty(name="Latitude Min", default=-math.pi / 2, min=-math.pi / 2, max=math.pi / 2,
                                subtype="ANGLE", description="Equirectangular: lowest latitude")
    latitude_max: FloatProperty(name="Latitude Max", default=math.pi / 2, min=-math.pi / 2, max=math.pi / 2,
                                subtype="ANGLE", description="Equirectangular: highest latitude (positive up)")

    # -- status (not saved) ------------------------------------------------------------------------
    last_output: StringProperty(name="Last Output", default="", options={"SKIP_SAVE"},
                                description="Folder the last render wrote into")
    last_views: IntProperty(name="Last Views", default=0, options={"SKIP_SAVE"},
                            description="How many views the last render wrote")

    def render_options(self, scene=None) -> RenderOptions:
        """The :class:`RenderOptions` these settings describe (``scene`` gives the 3D cursor)."""
        grid = (self.grid_azimuth, self.grid_elevation) if self.sampling == "grid" else None
        if self.center == "CURSOR":
            center = tuple((scene or self.id_data).cursor.location)
        elif self.center == "ORIGIN":
            center = (0.0, 0.0, 0.0)
        else:
            center = None
        elevation = ((math.degrees(self.elevation_min), math.degrees(self.elevation_max))
                     if self.use_elevation_band else None)
        if self.camera_source == "FILE" and not self.camera_file.strip():
            raise DepthViewsError("Cameras From File: choose a Camera File (transforms.json, COLMAP model, "
                                  "cameras.json, .npy/.npz)")
        return RenderOptions(
            views=grid[0] * grid[1] if grid else self.views, sampling=self.sampling, seed=self.seed,
            grid=grid, hemisphere=self.hemisphere, elevation=elevation,
            radius=None if self.radius_auto else self.radius, center=center,
            resolution=(self.resolution_x, self.resolution_y),
            lens=self.lens, fov=math.degrees(self.fov) if self.lens_unit == "FOV" else None,
            clip_start=None if self.clip_auto else self.clip_start,
            clip_end=None if self.clip_auto else self.clip_end,
            normalize=self.normalize, engine=self.engine, exr_compression=self.exr_compression,
            passes=tuple(p for p in PASSES if p == "depth" or p in self.passes),
            formats=tuple(f for f in FORMATS if f in self.formats),
            png16_scale=self.png16_scale, preview_range=self.preview_range,
            preview_near=self.preview_near if self.preview_range == "fixed" else None,
            preview_far=self.preview_far if self.preview_range == "fixed" else None,
            preview_invert=self.preview_invert, preview_colormap=self.preview_colormap,
            rgb_engine=self.rgb_engine, rgb_samples=self.rgb_samples, rgb_exr=self.rgb_exr,
            keep_transparency=self.keep_transparency,
            camera_model=self.camera_model, ortho_scale=None if self.ortho_scale_auto else self.ortho_scale,
            fisheye_fov=math.degrees(self.fisheye_fov),
            longitude_range=(math.degrees(self.longitude_min), math.degrees(self.longitude_max)),
            latitude_range=(math.degrees(self.latitude_min), math.degrees(self.latitude_max)),
            cameras_file=bpy.path.abspath(self.camera_file) if self.camera_source == "FILE" else None,
            pose_convention=self.pose_convention)


CLASSES = (DepthViewsSettings,)
