"""Every output format besides the depth EXR, and reading a rendered folder back (numpy + Pillow, no bpy).

- :mod:`.geometry`: exact distance from planar depth, back-projection, normals into camera axes.
- :mod:`.png16`: 16-bit PNG depth with a fixed metric scale.
- :mod:`.preview`, :mod:`.colormaps`: colour-mapped previews and contact sheets.
- :mod:`.images`: 8-bit sRGB colour, uint16 object-id masks, binary alpha.
- :mod:`.pointcloud`: binary PLY point clouds.
- :mod:`.loading`: :func:`load_views` for a whole output folder.
- :mod:`.derived`: :func:`~.derived.derive_view`, a view's stored arrays (distance, unit normals, xyz,
  sRGB) derived once for both writers.
- :mod:`.writer`: :class:`~.writer.OutputWriter`, which writes a view's passes in the chosen formats.
- :mod:`.shards`: WebDataset samples and tar shards; :mod:`.ownership`: who owns a temporary shard or a claim.
"""

from .colormaps import COLORMAPS, apply_colormap
from .geometry import backproject, distance_to_planar, normals_world_to_camera, pixel_rays, planar_to_distance
from .images import read_png, write_alpha_png, write_mask_png, write_rgb_png
from .loading import load_views
from .png16 import DEFAULT_PNG16_SCALE, Png16ClippingWarning, read_png16, write_png16
from .pointcloud import read_ply, write_ply
from .preview import contact_sheet, depth_preview, preview_range

__all__ = [
    "COLORMAPS", "DEFAULT_PNG16_SCALE", "Png16ClippingWarning", "apply_colormap", "backproject",
    "contact_sheet", "depth_preview", "distance_to_planar", "load_views", "normals_world_to_camera",
    "pixel_rays", "planar_to_distance", "preview_range", "read_ply", "read_png", "read_png16",
    "write_alpha_png", "write_mask_png", "write_ply", "write_png16", "write_rgb_png",
]
