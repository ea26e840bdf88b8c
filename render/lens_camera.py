"""Lens models in Blender: Cycles' Custom camera running ``shaders/lens_camera.osl`` (Blender 4.5 or newer).

The shader inverts the lens model's distortion for every pixel (float32 Newton, the same branch as
:mod:`depth_views.cameras.lens`), so each pixel's ray is the model's exact unprojection of its centre
(``snap`` 1: depth, normal, mask) or of the sample's sub-pixel position (``snap`` 0: the colour render,
anti-aliased).  Cycles' Depth pass of a Custom camera is the distance from the camera object's origin; the
renderer converts it with :meth:`LensModel.distance_to_depth` (planar z for the pinhole family) and the
float64 mask of :mod:`~depth_views.cameras.lens` decides which pixels have a ray.

Facts this module relies on (measured on bpy 4.5.15 and 5.0.1, see docs/camera-models.md):

- the shader is compiled once per camera data (Cycles' own ``_cycles.osl_compile``); its parameters are
  ID properties of ``camera_data.cycles_custom`` (scalars only: Cycles drops array parameters);
- after the parameters change, ``camera_data.update_tag()`` is needed, or a render with persistent data
  silently keeps the old ones; each change re-JITs the shader (tens of ms), so views are grouped by camera;
- pixels without a ray (throughput 0) are background in depth, normal and mask, but opaque black in the
  colour pass: the renderer masks them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile

import numpy as np

from ..cameras.lens import FISHEYE_FAMILY, LensModel
from ..compositor.compat import compile_osl
from ..errors import DepthViewsError

SHADER_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shaders", "lens_camera.osl")
_ZERO_COEFFICIENTS = ("n1", "n2", "n3", "n4", "n5", "n6", "d1", "d2", "d3", "p1", "p2", "sx1", "sy1", "sx2", "sy2")


def lens_shader_params(lens: LensModel, snap: bool = True) -> dict:
    """lens_camera.osl's scalar parameters for ``lens`` (the shader's header says what each means); ints
    stay ints (Cycles reads an int parameter only from an int property)."""
    n = lens.named_params()
    (fx, fy), (cx, cy) = lens.focal, lens.principal_point
    p = {"family": int(lens.family == FISHEYE_FAMILY), "kind": 0, "asym": int(not lens.is_radially_symmetric),
         "snap": int(snap), "width": float(lens.width), "height": float(lens.height),
         "fx": fx, "fy": fy, "cx": cx, "cy": cy, "omega": 0.0, "rho_max": 1e30, "rho_d_max": 1e30}
    p.update({key: 0.0 for key in _ZERO_COEFFICIENTS})
    numerator, denominator = lens.radial_coefficients()
    p.update({f"n{i}": value for i, value in enumerate(numerator, start=1)})
    p.update({f"d{i}": value for i, value in enumerate(denominator, start=1)})
    name = lens.name
    if name in ("OPENCV", "FULL_OPENCV", "NERFSTUDIO_OPENCV"):
        p.update(p1=n["p1"], p2=n["p2"])
    elif name == "THIN_PRISM_FISHEYE":
        p.update(p1=n["p1"], p2=n["p2"], sx1=n["sx1"], sy1=n["sy1"])
    elif name == "RAD_TAN_THIN_PRISM_FISHEYE":   # COLMAP's p0 -> p2, s0 -> sx1, s1 -> sx2, s2 -> sy1, s3 -> sy2
        p.update(kind=3, p1=n["p1"], p2=n["p0"], sx1=n["s0"], sx2=n["s1"], sy1=n["s2"], sy2=n["s3"])
    elif name == "FOV":
        p.update(kind=1, omega=n["omega"])
    elif name in ("SIMPLE_DIVISION", "DIVISION"):
        p.update(kind=2, n1=n["k"])
    if p["kind"] in (0, 3):
        profile = lens.radial_profile()
        if profile.reason != "scan-end":
            # a hair of slack for float32: the float64 mask applied after the render is the exact one
            p["rho_max"] = profile.rho_max
            p["rho_d_max"] = profile.rho_d_max * (1.0 + 1e-6)
    return {key: int(value) if isinstance(value, (bool, int, np.integer)) else float(value) for key, value in p.items()}


def shader_source() -> str:
    """The shipped lens_camera.osl (package data)."""
    try:
        with open(SHADER_FILE, encoding="utf-8") as stream:
            return stream.read()
    except OSError as error:
        raise DepthViewsError(f"{SHADER_FILE}: the lens camera's shader is missing from this install "
                              f"({error.strerror})") from None


_BYTECODE: dict = {}


def _bytecode() -> str:
    """The compiled shader (OSL bytecode), compiled once per process with Cycles' own compiler."""
    if "oso" not in _BYTECODE:
        folder = tempfile.mkdtemp(prefix="depth-views-osl-")
        try:
            source, target = os.path.join(folder, "lens_camera.osl"), os.path.join(folder, "lens_camera.oso")
            with open(source, "w", encoding="utf-8") as stream:
                stream.write(shader_source() + "\n")
            _BYTECODE["oso"] = compile_osl(source, target)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return _BYTECODE["oso"]


def make_lens_camera(camera_data, lens: LensModel, *, snap: bool = True) -> None:
    """Make ``camera_data`` a Custom camera running the lens shader for ``lens``: compiled on first use, the
    parameters set (and the camera tagged for a persistent-data render) only when they change."""
    if camera_data.type != "CUSTOM" or camera_data.custom_bytecode_hash != _hash(_bytecode()):
        bytecode = _bytecode()
        camera_data.type = "CUSTOM"
        camera_data.custom_mode = "INTERNAL"
        camera_data.custom_bytecode = bytecode
        camera_data.custom_bytecode_hash = _hash(bytecode)
    params = lens_shader_params(lens, snap=snap)
    props = camera_data.cycles_custom
    if any(key not in props or props[key] != value for key, value in params.items()):
        for key, value in params.items():
            props[key] = value
        camera_data.update_tag()


def _hash(bytecode: str) -> str:
    return hashlib.md5(bytecode.encode(), usedforsecurity=False).hexdigest()
