"""The camera stage's limits: what one render, one camera file and Blender can hold (pure Python).

Every camera-file reader enforces these before it builds anything, so a hostile file is refused in
bounded time and memory; :mod:`depth_views.options` re-imports the ones its settings share.
"""

from __future__ import annotations

MAX_VIEWS = 100_000
"""Views per input: ``--views`` and the frames of a camera file."""
MAX_IMAGE_SIZE_PX = 65536
"""Blender's largest render resolution (pixels per side)."""
MAX_FOCAL_PX = 1e8
"""The largest focal length in pixels (1e-8 rad per pixel, far narrower than any real lens)."""
MAX_PIXEL_ASPECT = 200.0
"""Blender's largest pixel aspect ratio: fx / fy (and fy / fx) of a pinhole K."""
MAX_DEPTH = 1e9
"""Scene units: depth from here on reads back as background (``exr_io.BACKGROUND_THRESHOLD``); camera
positions must lie closer than this to the origin."""
BLENDER_MIN_CLIP_START = 1e-6
"""Blender silently clamps a nearer clip start to this (scene units)."""

MAX_CAMERA_FILE_BYTES = 256 * 2**20
"""A camera JSON, ``cameras.txt`` or ``cameras.bin`` larger than this is refused before reading (a
cameras.json of 100,000 views is about 95 MB)."""
MAX_COLMAP_IMAGES_BYTES = 4 * 2**30
"""``images.txt`` / ``images.bin`` larger than this is refused before reading (their 2D points, which
are skipped, make them large; they are read as a stream)."""
MAX_POSE_FILE_BYTES = 32 * 2**20
"""A ``.npy`` / ``.npz`` of poses larger than this is refused before reading (100,000 float64 4x4
poses are 12.8 MB)."""
