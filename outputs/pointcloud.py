"""Binary little-endian PLY point clouds (positions, optional uint8 colours and float normals); numpy only."""

from __future__ import annotations

import os
import uuid

import numpy as np

from ..errors import DepthViewsError

_PLY_TYPES = {"f4": "float", "f8": "double", "u1": "uchar", "i4": "int", "u2": "ushort", "u4": "uint"}


def point_cloud_dtype(colors: bool, normals: bool) -> np.dtype:
    """The vertex record: x y z float32, then nx ny nz float32, then red green blue uchar."""
    fields = [("x", "<f4"), ("y", "<f4"), ("z", "<f4")]
    if normals:
        fields += [("nx", "<f4"), ("ny", "<f4"), ("nz", "<f4")]
    if colors:
        fields += [("red", "u1"), ("green", "u1"), ("blue", "u1")]
    return np.dtype(fields)


def write_ply(path, points, *, colors=None, normals=None, comments=()) -> int:
    """Write ``points`` (N, 3) as a binary little-endian PLY; return N.

    ``colors``: (N, 3) uint8 RGB (or (N, 4): alpha dropped); ``normals``: (N, 3) unit vectors.
    ``comments`` are lines for the header (e.g. units, frame).  Written to a temporary file, then renamed.
    """
    path = os.fspath(path)
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3:
        raise DepthViewsError(f"{path}: points must be (N, 3), got shape {points.shape}")
    n = len(points)
    records = np.empty(n, dtype=point_cloud_dtype(colors is not None, normals is not None))
    records["x"], records["y"], records["z"] = points.T
    if normals is not None:
        normals = np.asarray(normals, dtype=np.float32)
        if normals.shape != (n, 3):
            raise DepthViewsError(f"{path}: normals must be ({n}, 3), got shape {normals.shape}")
        records["nx"], records["ny"], records["nz"] = normals.T
    if colors is not None:
        colors = np.asarray(colors)
        if colors.shape[0] != n or colors.ndim != 2 or colors.shape[1] not in (3, 4):
            raise DepthViewsError(f"{path}: colors must be ({n}, 3) uint8, got shape {colors.shape}")
        records["red"], records["green"], records["blue"] = colors[:, :3].astype(np.uint8).T
    header = ["ply", "format binary_little_endian 1.0"]
    header += [f"comment {line}" for line in comments]
    header.append(f"element vertex {n}")
    for name in records.dtype.names:
        header.append(f"property {_PLY_TYPES[records.dtype[name].str.lstrip('<|')]} {name}")
    header.append("end_header")
    folder = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(temporary, "wb") as stream:
            stream.write(("\n".join(header) + "\n").encode("ascii"))
            stream.write(records.tobytes())
        os.replace(temporary, path)
    except OSError as error:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise DepthViewsError(f"{path}: cannot write ({error.strerror})") from None
    return n


def read_ply(path) -> dict:
    """Read a PLY written by :func:`write_ply`: ``{"points": (N, 3) float32, "colors"?, "normals"?}``."""
    path = os.fspath(path)
    with open(path, "rb") as stream:
        if stream.readline().strip() != b"ply":
            raise DepthViewsError(f"{path}: not a PLY file")
        fields, n = [], None
        while True:
            line = stream.readline()
            if not line:
                raise DepthViewsError(f"{path}: PLY header has no end_header")
            words = line.decode("ascii").split()
            if words[:1] == ["format"] and words[1] != "binary_little_endian":
                raise DepthViewsError(f"{path}: only binary_little_endian PLY is read here")
            if words[:2] == ["element", "vertex"]:
                n = int(words[2])
            elif words[:1] == ["property"]:
                kind = {v: k for k, v in _PLY_TYPES.items()}[words[1]]
                fields.append((words[2], "<" + kind if kind != "u1" else "u1"))
            elif words[:1] == ["end_header"]:
                break
        records = np.frombuffer(stream.read(), dtype=np.dtype(fields), count=n)
    out = {"points": np.stack([records["x"], records["y"], records["z"]], axis=1)}
    if "nx" in records.dtype.names:
        out["normals"] = np.stack([records["nx"], records["ny"], records["nz"]], axis=1)
    if "red" in records.dtype.names:
        out["colors"] = np.stack([records["red"], records["green"], records["blue"]], axis=1)
    return out
