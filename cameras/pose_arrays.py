"""Arrays of poses, ``.npy`` and ``.npz``: reading them into a :class:`~.frames.CameraSet` (pure numpy).

A ``.npy`` of 4x4 (or 3x4) matrices, or a ``.npz`` whose ``poses``/``camera_to_world``/``world_to_camera``
array (or only array) holds them, in a stated ``pose_convention``.  No intrinsics: the render's options
give them.  The array header is read and checked (a real number type, the shape, at most
:data:`~.limits.MAX_VIEWS` poses, the file holding that many) before any array is allocated; pickled
objects are never loaded.
"""

from __future__ import annotations

import io
import zipfile
import zlib

import numpy as np

from .conventions import BLENDER_TO_OPENCV_AXES
from .frames import CameraFrame, CameraSet, check_count, checked_poses, inverted, reader_error
from .limits import MAX_POSE_FILE_BYTES
from .safe_files import one_line, read_regular, shown

POSE_CONVENTIONS = ("opengl", "opencv", "opencv_w2c")
POSE_ARRAY_NAMES = ("poses", "camera_to_world", "world_to_camera")
NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"
MAX_HEADER_BYTES = 10_000
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError,
               NotImplementedError)  # RuntimeError: an encrypted member; NotImplementedError: an unknown compression


def _read_npy(stream, path: str, where: str) -> np.ndarray:
    """The poses array of one .npy stream, its header checked before its data is read."""
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream, max_header_size=MAX_HEADER_BYTES)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream, max_header_size=MAX_HEADER_BYTES)
        else:
            raise reader_error(path, where, f".npy format version {version[0]}.{version[1]} is not supported")
    except (ValueError, TypeError, SyntaxError, EOFError) as error:
        raise reader_error(path, where, f"not a valid .npy array header ({one_line(error)})") from None
    if dtype.hasobject:
        raise reader_error(path, where, "holds Python objects (pickle), which Depth Views never loads")
    if dtype.kind == "c":
        raise reader_error(path, where, f"holds complex numbers ({dtype}); poses must be real")
    if dtype.kind not in "fiu" or dtype.fields is not None:
        raise reader_error(path, where, f"holds {dtype} values, not numbers")
    if len(shape) == 2:
        shape = (1,) + tuple(shape)
    if len(shape) != 3 or tuple(shape[1:]) not in ((4, 4), (3, 4)):
        raise reader_error(path, where, f"poses have shape {tuple(shape)}; expected (N, 4, 4)")
    if shape[0] < 1:
        raise reader_error(path, where, "the file holds no poses")
    check_count(path, shape[0], "poses", where)
    wanted = shape[0] * shape[1] * shape[2] * dtype.itemsize
    data = stream.read(wanted)
    if len(data) < wanted:
        raise reader_error(path, where, f"ends early: its header promises {shape[0]} poses ({wanted} bytes), "
                                        f"but {len(data)} bytes follow (truncated?)")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran_order else "C")


def _read_npz(data: bytes, path: str) -> np.ndarray:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        with archive:
            names = [name[:-4] if name.endswith(".npy") else name for name in archive.namelist()]
            keys = [key for key in POSE_ARRAY_NAMES if key in names]
            if not keys and len(names) != 1:
                listed = ", ".join(shown(name) for name in names[:5]) + (", ..." if len(names) > 5 else "")
                raise reader_error(path, "", f"holds {len(names)} arrays ({listed}); name the poses array 'poses'")
            key = keys[0] if keys else names[0]
            member = key + ".npy" if key + ".npy" in archive.namelist() else key
            with archive.open(member) as stream:
                return _read_npy(stream, path, f"array {shown(key)}")
    except _ZIP_ERRORS as error:
        raise reader_error(path, "", f"not a valid .npz archive ({one_line(error)})") from None


def read_pose_array(path: str, pose_convention: str) -> CameraSet:
    """Poses (N, 4, 4) of a ``.npy``, or of a ``.npz``'s ``poses``/``camera_to_world``/``world_to_camera``
    array (or its only array).  ``pose_convention``: opengl (camera-to-world, Blender/OpenGL axes),
    opencv (camera-to-world, OpenCV axes), opencv_w2c (world-to-camera, OpenCV axes).  No intrinsics:
    the render's options give them.  The file is opened once; DepthViewsError of one line naming the
    file (and pose) for anything else."""
    if pose_convention not in POSE_CONVENTIONS:
        raise reader_error(path, "", f"--pose-convention {shown(repr(pose_convention))}: choose one of "
                                     f"{', '.join(POSE_CONVENTIONS)}")
    data = read_regular(path, MAX_POSE_FILE_BYTES)
    if not data:
        raise reader_error(path, "", "is empty (0 bytes)")
    if data.startswith(ZIP_MAGIC):
        array = _read_npz(data, path)
    elif data.startswith(NPY_MAGIC):
        array = _read_npy(io.BytesIO(data), path, "")
    else:
        raise reader_error(path, "", "is neither a .npy array nor a .npz archive (pickles are never loaded)")
    poses = checked_poses(path, [f"pose {index}" for index in range(len(array))], list(array.astype(np.float64)))
    if pose_convention == "opencv_w2c":
        matrices = inverted([BLENDER_TO_OPENCV_AXES @ pose for pose in poses])
    elif pose_convention == "opencv":
        matrices = [pose @ BLENDER_TO_OPENCV_AXES for pose in poses]
    else:
        matrices = poses
    return CameraSet(path=path, kind="poses", frames=[CameraFrame(name=f"pose_{index}", camera_to_world=matrix)
                                                      for index, matrix in enumerate(matrices)])
