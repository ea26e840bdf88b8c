"""OpenEXR's standard camera attributes ``worldToCamera`` and ``worldToNDC`` (numpy only).

OpenEXR (docs: "Standard Attributes", Position and Orientation) stores matrices in Imath's
row-vector convention: a world point ``p`` (row ``[x, y, z, 1]``) maps to ``p @ M``. So the M44f
in the file is the TRANSPOSE of the usual column-vector 4x4 matrix. The OpenEXR Python binding
copies an array's raw buffer and ignores its strides, so arrays handed to it must be C-contiguous;
the functions below return such arrays.

Its camera space is RenderMan's and is left-handed: x right, y UP, z FORWARD (objects in front of
the camera have z > 0). Compared with OpenCV camera axes (x right, y down, z forward) only y flips;
compared with Blender/OpenGL camera axes (x right, y up, z backward) only z flips.

NDC: x right, y down; (0, 0) is the top-left corner and (1, 1) the bottom-right corner of the
display window, i.e. the outer edges of the corner pixels. With OpenCV intrinsics ``K`` (pixel
centres at integer coordinates) pixel ``(u, v)`` is at NDC
``((u + 0.5) / width, (v + 0.5) / height)``.
"""

import numpy as np

OPENCV_TO_BLENDER_CAMERA = np.diag([1.0, -1.0, -1.0, 1.0])
"""Maps OpenCV camera axes (x right, y down, z forward) to Blender's (x right, y up, z back).

It is its own inverse."""

OPENCV_TO_OPENEXR_CAMERA = np.diag([1.0, -1.0, 1.0, 1.0])
"""Maps OpenCV camera axes to OpenEXR/RenderMan camera axes (x right, y up, z forward)."""


def openexr_world_to_camera(world_to_camera_opencv: np.ndarray) -> np.ndarray:
    """The ``worldToCamera`` M44f (float32, row-vector) for an OpenCV world-to-camera 4x4."""
    world_to_camera_openexr = OPENCV_TO_OPENEXR_CAMERA @ np.asarray(world_to_camera_opencv, float)
    return np.ascontiguousarray(world_to_camera_openexr.T, dtype=np.float32)


def opencv_world_to_camera(openexr_world_to_camera_m44: np.ndarray) -> np.ndarray:
    """Inverse of :func:`openexr_world_to_camera`: the OpenCV column-vector 4x4 (float64)."""
    return OPENCV_TO_OPENEXR_CAMERA @ np.asarray(openexr_world_to_camera_m44, float).T


def openexr_world_to_ndc(
    K: np.ndarray, world_to_camera_opencv: np.ndarray, width: int, height: int
) -> np.ndarray:
    """The ``worldToNDC`` M44f (float32, row-vector convention) for a pinhole camera.

    ``K`` is the 3x3 OpenCV intrinsics matrix in pixels for a ``width`` x ``height`` image.
    ``[x, y, z, w] = [X, Y, Z, 1] @ M``; NDC is ``(x / w, y / w)`` and ``w`` is the OpenCV camera
    depth. The z column gives ``z / w = 1 / depth``, so the matrix stays invertible; OpenEXR says
    to discard z anyway.
    """
    pixels_to_ndc = np.array(
        [[1.0 / width, 0.0, 0.5 / width], [0.0, 1.0 / height, 0.5 / height], [0.0, 0.0, 1.0]]
    )
    projection = pixels_to_ndc @ np.asarray(K, float)
    camera_to_ndc = np.zeros((4, 4))
    camera_to_ndc[0, :3] = projection[0]
    camera_to_ndc[1, :3] = projection[1]
    camera_to_ndc[2, 3] = 1.0
    camera_to_ndc[3, :3] = projection[2]
    world_to_ndc = camera_to_ndc @ np.asarray(world_to_camera_opencv, float)
    return np.ascontiguousarray(world_to_ndc.T, dtype=np.float32)
