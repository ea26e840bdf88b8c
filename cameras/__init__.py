"""Stage 1, cameras: which views to render and what their numbers mean (pure numpy, no bpy).

- :mod:`.views`: intrinsics (``Intrinsics``), poses and conventions (``View``, ``look_at``, OpenCV vs
  Blender axes) and sphere sampling (``sample_views``);
- :mod:`.files`: ``cameras.json`` / nerfstudio ``transforms.json``, writing and reading back.

``depth_views.cameras.X`` keeps working for every public name of :mod:`.views`.
"""

from .views import (  # noqa: F401
    BLENDER_TO_OPENCV_AXES, FULL_SPHERE, MAX_IMAGE_SIZE_PX, SAMPLINGS, Intrinsics, View, auto_radius,
    bounding_sphere, camera_inside_box, camera_to_world_from_opencv, direction_from_angles, elevation_band,
    look_at, pixel_box_of_points, sample_fibonacci_sphere, sample_grid, sample_random_sphere, sample_views,
    world_to_camera_opencv,
)
