"""The form every camera-file reader fills: :class:`CameraFrame` and :class:`CameraSet` (pure numpy), and
the checks of one frame's values that every reader shares.

A frame's pose is a Blender camera_to_world (:mod:`.conventions`), its K in OpenCV pixels (pixel
centres at integers, :mod:`.intrinsics`), whatever the file's own conventions.  Every check raises a
DepthViewsError of one line: ``FILE: WHERE: PROBLEM`` (WHERE names the frame, camera or image).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .limits import MAX_DEPTH, MAX_FOCAL_PX, MAX_IMAGE_SIZE_PX, MAX_VIEWS
from .safe_files import shown
from ..errors import DepthViewsError

ROTATION_TOLERANCE = 1e-4
_LAST_ROW = np.array([0.0, 0.0, 0.0, 1.0])


@dataclass(frozen=True, eq=False)
class CameraFrame:
    """One camera of a file.  ``camera_to_world``: 4x4, Blender/OpenGL axes (a read-only float64 copy).
    ``fx fy cx cy``: pixels, OpenCV convention (pixel centres at integers), None when the file leaves
    them to the caller.  ``distortion``: the model's other parameters by name (k1, p1, ...).  ``name``:
    the file's name for the view (image name or file_path); the image need not exist."""

    name: str
    camera_to_world: np.ndarray
    model: str = "PINHOLE"
    width: int | None = None
    height: int | None = None
    fx: float | None = None
    fy: float | None = None
    cx: float | None = None
    cy: float | None = None
    distortion: dict = field(default_factory=dict)
    # EQUIRECTANGULAR: (longitude range, latitude range) in degrees; None = the full 360 x 180
    angle_ranges: tuple | None = None

    def __post_init__(self) -> None:
        matrix = np.array(self.camera_to_world, dtype=np.float64, copy=True)
        matrix.setflags(write=False)
        object.__setattr__(self, "camera_to_world", matrix)

    def to_json(self) -> dict:
        """Plain JSON (floats round-trip exactly), for :meth:`CameraSet.from_json`."""
        out = {key: getattr(self, key) for key in ("name", "model", "width", "height", "fx", "fy", "cx", "cy")}
        out.update(camera_to_world=self.camera_to_world.tolist(), distortion=dict(self.distortion),
                   angle_ranges=None if self.angle_ranges is None else [list(r) for r in self.angle_ranges])
        return out


@dataclass(frozen=True, eq=False)
class CameraSet:
    """The frames of one camera file, in the file's order; ``kind`` names the format read
    (``transforms``, ``colmap``, ``depth_views``, ``poses``).  Immutable: read a file once and hand
    the set on (:func:`~.camera_set.views_from_camera_set` takes it as often as needed)."""

    path: str
    kind: str
    frames: tuple
    # what camera_set.py derives from the frames (the camera model, per-frame intrinsics), kept once
    _derived: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "frames", tuple(self.frames))

    def to_json(self) -> dict:
        """Plain JSON of the set (for a worker process that must not read the file again)."""
        return {"path": self.path, "kind": self.kind, "frames": [frame.to_json() for frame in self.frames]}

    @classmethod
    def from_json(cls, document: dict) -> CameraSet:
        """The set :meth:`to_json` gave (trusted input: the values were checked when the file was read)."""
        frames = []
        for entry in document["frames"]:
            entry = dict(entry)
            ranges = entry.pop("angle_ranges")
            frames.append(CameraFrame(**entry, angle_ranges=None if ranges is None else tuple(map(tuple, ranges))))
        return cls(path=document["path"], kind=document["kind"], frames=frames)


# -- the checks every reader shares -----------------------------------------------------------------

def reader_error(path, where, problem) -> DepthViewsError:
    """``FILE: WHERE: PROBLEM`` (or ``FILE: PROBLEM``) as one line."""
    return DepthViewsError(f"{shown(path)}: {where}: {problem}" if where else f"{shown(path)}: {problem}")


def frame_label(index: int, name) -> str:
    return f"frame {index} ({shown(name)})" if name else f"frame {index}"


def check_count(path, count: int, what: str, where: str = "") -> None:
    """DepthViewsError when a file holds more than :data:`~.limits.MAX_VIEWS` ``what`` (frames, views,
    images, poses, cameras): one render has at most that many views."""
    if count > MAX_VIEWS:
        raise reader_error(path, where, f"holds {count} {what}; at most {MAX_VIEWS} per render (split the file)")


def finite_number(path, where, name, value, *, positive: bool = False) -> float:
    """``value`` as a finite float (and > 0 with ``positive``), or DepthViewsError naming it."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise reader_error(path, where, f"{name} is {shown(repr(value))}, not a number") from None
    if not math.isfinite(number) or (positive and number <= 0):
        raise reader_error(path, where, f"{name} is {shown(repr(value))}; it must be "
                                        f"{'positive and ' if positive else ''}finite")
    return number


def image_size(path, where, name, value) -> int:
    """``value`` as an image side in pixels (a whole number in [1, 65536]), or DepthViewsError naming it."""
    number = finite_number(path, where, name, value, positive=True)
    if number != int(number):
        raise reader_error(path, where, f"{name} is {shown(repr(value))}, not a whole number of pixels")
    if number > MAX_IMAGE_SIZE_PX:
        raise reader_error(path, where, f"{name} is {int(number)} pixels; Blender renders at most "
                                        f"{MAX_IMAGE_SIZE_PX} per side")
    return int(number)


def focal_length(path, where, name, value) -> float:
    """``value`` as a focal length in pixels (positive, at most :data:`~.limits.MAX_FOCAL_PX`)."""
    number = finite_number(path, where, name, value, positive=True)
    if number > MAX_FOCAL_PX:
        raise reader_error(path, where, f"{name} is {number:g} pixels; focal lengths go up to {MAX_FOCAL_PX:g}")
    return number


def number_matrix(path, where, name, value, shapes: tuple) -> np.ndarray:
    """``value`` (nested lists or an array) as a float64 array of one of ``shapes``, or DepthViewsError."""
    try:
        if not isinstance(value, (list, tuple, np.ndarray)):
            raise TypeError
        matrix = np.array(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise reader_error(path, where, f"{name} is not a matrix of numbers") from None
    if matrix.shape not in shapes:
        raise reader_error(path, where, f"{name} has shape {matrix.shape}, not "
                                        f"{' or '.join('x'.join(map(str, s)) for s in shapes)}")
    if not np.all(np.isfinite(matrix)):
        raise reader_error(path, where, f"{name} has NaN or infinite entries")
    return matrix


def pose_array(path, where, matrix) -> np.ndarray:
    """``matrix`` (nested lists or an array, 3x4 or 4x4) as a float64 4x4 array, not yet checked to be
    rigid (:func:`checked_poses`), or DepthViewsError: not numbers, another shape."""
    try:
        array = np.array(matrix, dtype=np.float64) if isinstance(matrix, (list, tuple, np.ndarray)) else None
    except (TypeError, ValueError, OverflowError):
        array = None
    if array is not None and array.shape == (3, 4):
        array = np.vstack([array, _LAST_ROW])
    if array is None or array.shape != (4, 4):
        checked_pose(path, where, matrix)  # raises, naming it
    return array


def checked_poses(path, wheres, matrices) -> np.ndarray:
    """:func:`checked_pose` of each of ``matrices`` (file order; ``wheres[i]`` names matrix i) as one
    (N, 4, 4) float64 array, the checks done for all at once; the first matrix that fails is named by
    :func:`checked_pose` itself, so the message is the same as one at a time."""
    stacked = [pose_array(path, where, matrix) for where, matrix in zip(wheres, matrices)]
    if not stacked:
        return np.zeros((0, 4, 4))
    poses = np.stack(stacked)
    with np.errstate(all="ignore"):  # NaN, inf and overflow make a pose fail below
        rotations = poses[:, :3, :3]
        error = np.abs(np.swapaxes(rotations, 1, 2) @ rotations - np.eye(3)).max(axis=(1, 2))
        (a, b, c), (d, e, f), (g, h, i) = np.moveaxis(rotations, (1, 2), (0, 1))
        determinant = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
        distance = np.sqrt((poses[:, :3, 3] ** 2).sum(axis=1))
        good = (np.isfinite(poses).all(axis=(1, 2)) & (error <= ROTATION_TOLERANCE) & (determinant >= 0) &
                np.all(np.abs(poses[:, 3] - _LAST_ROW) <= ROTATION_TOLERANCE + 1e-5 * _LAST_ROW, axis=1) &
                (distance < MAX_DEPTH))
    for index in np.flatnonzero(~good):
        checked_pose(path, wheres[index], stacked[index])  # raises (the first bad one), unless on a tolerance's edge
    poses[:, 3] = _LAST_ROW
    return poses


def inverted(matrices) -> np.ndarray:
    """The inverse of each 4x4 of ``matrices`` (N, 4, 4) in one call: bit-identical to inverting each alone
    (the same LAPACK routine per matrix), without N calls' overhead.  The matrices are rigid (checked)."""
    return np.linalg.inv(np.stack(matrices)) if len(matrices) else np.zeros((0, 4, 4))


def checked_position(path, where, position) -> None:
    """DepthViewsError when a camera sits :data:`~.limits.MAX_DEPTH` or more from the origin."""
    distance = math.hypot(*(float(x) for x in position))
    if not distance < MAX_DEPTH:
        raise reader_error(path, where, f"the camera sits {distance:.3g} scene units from the origin; "
                                        f"camera positions must lie within {MAX_DEPTH:g} (depth from there on "
                                        "reads back as background)")


def checked_pose(path, where, matrix) -> np.ndarray:
    """``matrix`` (3x4 or 4x4) as a float64 4x4 rigid transform whose translation lies within
    :data:`~.limits.MAX_DEPTH`, or DepthViewsError naming ``path`` and ``where``."""
    try:
        if not isinstance(matrix, (list, tuple, np.ndarray)):
            raise TypeError
        matrix = np.array(matrix, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise reader_error(path, where, "the pose is not a 4x4 matrix of numbers") from None
    if matrix.shape == (3, 4):
        matrix = np.vstack([matrix, [0.0, 0.0, 0.0, 1.0]])
    if matrix.shape != (4, 4):
        raise reader_error(path, where, f"the pose has shape {matrix.shape}, not 4x4")
    if not np.all(np.isfinite(matrix)):
        raise reader_error(path, where, "the pose has NaN or infinite entries")
    if not np.all(np.abs(matrix[3] - _LAST_ROW) <= ROTATION_TOLERANCE + 1e-5 * _LAST_ROW):  # np.allclose's rule
        raise reader_error(path, where, f"the pose's last row is {matrix[3].tolist()}, not [0, 0, 0, 1]")
    rotation = matrix[:3, :3]
    error = float(np.abs(rotation.T @ rotation - np.eye(3)).max())
    (a, b, c), (d, e, f), (g, h, i) = rotation.tolist()
    determinant = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    if error > ROTATION_TOLERANCE or determinant < 0:
        raise reader_error(path, where, "the pose's 3x3 part is not a rotation "
                                        f"(R^T R differs from I by {error:.2g}, det {determinant:.3g})")
    checked_position(path, where, matrix[:3, 3])  # rigid: |translation| is the camera's distance either way
    matrix[3] = [0.0, 0.0, 0.0, 1.0]
    return matrix
