"""Read and write depth maps in OpenEXR files (numpy + OpenEXR only; no bpy).

Arrays are (height, width), row 0 = top of the image. Depth is in scene units (normally metres);
background is +inf. Every failure raises :class:`DepthViewsError` with a message that starts with
the file path.
"""

from .camera_attributes import (
    opencv_world_to_camera,
    openexr_world_to_camera,
    openexr_world_to_ndc,
)
from .reading import (
    BACKGROUND_THRESHOLD,
    DEPTH_CHANNEL_CANDIDATES,
    pick_depth_channel,
    read_channels,
    read_depth,
    read_depth_with_metadata,
    read_header,
)
from .writing import COMPRESSIONS, write_channels, write_depth

__all__ = [
    "BACKGROUND_THRESHOLD",
    "COMPRESSIONS",
    "DEPTH_CHANNEL_CANDIDATES",
    "opencv_world_to_camera",
    "openexr_world_to_camera",
    "openexr_world_to_ndc",
    "pick_depth_channel",
    "read_channels",
    "read_depth",
    "read_depth_with_metadata",
    "read_header",
    "write_channels",
    "write_depth",
]
