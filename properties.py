"""Settings of the add-on, stored on the Scene (``scene.depth_views``) so they are saved in the .blend."""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, StringProperty

from .options import RenderOptions

DEFAULTS = RenderOptions()


class DepthViewsSettings(bpy.types.PropertyGroup):
    """Camera sphere, image and output settings; :func:`render_options` turns them into options."""

    views: IntProperty(name="Views", default=DEFAULTS.views, min=1, soft_max=1000,
                       description="Number of cameras on the sphere")
    sampling: EnumProperty(name="Sampling", default=DEFAULTS.sampling, items=[
        ("fibonacci", "Fibonacci", "Evenly spread (golden-angle lattice)"),
        ("random", "Random", "Uniformly random on the sphere, reproducible by seed"),
        ("grid", "Grid", "Azimuth x elevation grid")])
    seed: IntProperty(name="Seed", default=0, min=0, description="Seed of the random sampling")
    grid_azimuth: IntProperty(name="Azimuths", default=8, min=1, description="Grid columns (azimuth count)")
    grid_elevation: IntProperty(name="Elevations", default=3, min=1, description="Grid rows (elevation count)")
    hemisphere: BoolProperty(name="Upper Hemisphere", default=False,
                             description="Only cameras at elevation >= 0 degrees")
    radius_auto: BoolProperty(name="Fit Radius", default=True,
                              description="Place cameras so the objects' bounding sphere fills the view")
    radius: FloatProperty(name="Radius", default=3.0, min=1e-6, unit="LENGTH",
                          description="Camera distance from the centre, in scene units")
    resolution_x: IntProperty(name="Width", default=512, min=1, max=65536, subtype="PIXEL",
                              description="Image width in pixels")
    resolution_y: IntProperty(name="Height", default=512, min=1, max=65536, subtype="PIXEL",
                              description="Image height in pixels")
    lens: FloatProperty(name="Focal Length", default=DEFAULTS.lens, min=1e-3, unit="CAMERA",
                        description="Focal length in millimetres (36 mm sensor across the larger side)")
    engine: EnumProperty(name="Engine", default="cycles", items=[
        ("cycles", "Cycles", "Exact depth at pixel centres (recommended)"),
        ("workbench", "Workbench", "Rasterised depth, fast"),
        ("eevee", "EEVEE", "Rasterised depth")])
    output_dir: StringProperty(name="Output Folder", default="//depth_views/", subtype="DIR_PATH",
                               description="Folder for depth/NNNN.exr, cameras.json and transforms.json")
    last_output: StringProperty(name="Last Output", default="", options={"SKIP_SAVE"},
                                description="Where the last render wrote its files")

    def render_options(self) -> RenderOptions:
        """The :class:`RenderOptions` these settings describe."""
        grid = (self.grid_azimuth, self.grid_elevation) if self.sampling == "grid" else None
        return RenderOptions(
            views=grid[0] * grid[1] if grid else self.views, sampling=self.sampling, seed=self.seed,
            grid=grid, hemisphere=self.hemisphere, radius=None if self.radius_auto else self.radius,
            resolution=(self.resolution_x, self.resolution_y), lens=self.lens, engine=self.engine)


CLASSES = (DepthViewsSettings,)
