"""Stage 1, cameras: which views to render and what their numbers mean (pure numpy, no bpy).

- :mod:`.intrinsics` (``Intrinsics``: size, lens, any pinhole K), :mod:`.conventions` (OpenCV vs
  Blender axes, ``look_at``, quaternions), :mod:`.views` (``View``), :mod:`.models` (camera models);
- :mod:`.sphere`: views on a sphere (``sample_views``), elevation bands, per-view radius/FOV ranges;
- :mod:`.framing`: camera distance, clip range, normalisation, pixel boxes (all framing);
- one room per camera format, each reading and writing it: :mod:`.colmap`, :mod:`.nerfstudio`,
  :mod:`.cameras_json` (ours), :mod:`.pose_arrays` (reading only);
- :mod:`.camera_set`: ``read_camera_file`` (any format, read once) and the step from a camera set to
  views; :mod:`.frames`: the set's form; :mod:`.limits`, :mod:`.safe_files`, :mod:`.atomic_write`.

``depth_views.cameras.X`` keeps working for the names below.
"""

from .conventions import BLENDER_TO_OPENCV_AXES, camera_to_world_from_opencv, look_at, world_to_camera_opencv  # noqa: F401
from .framing import auto_radius, bounding_sphere, camera_inside_box, pixel_box_of_points  # noqa: F401
from .intrinsics import Intrinsics  # noqa: F401
from .limits import MAX_IMAGE_SIZE_PX  # noqa: F401
from .sphere import (  # noqa: F401
    FULL_SPHERE, SAMPLINGS, direction_from_angles, elevation_band, sample_fibonacci_sphere, sample_grid,
    sample_random_sphere, sample_views,
)
from .views import View  # noqa: F401
