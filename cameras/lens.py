"""Lens models with distortion: exact projection and unprojection (pure numpy, float64, vectorised).

One :class:`LensModel` per camera: a model name, the image size and the parameters in COLMAP's order
with COLMAP's own values (as ``cameras.txt`` holds them).  :data:`MODELS` has every COLMAP camera
model that describes a lens (pycolmap 4.2: all but EUCM and EQUIRECTANGULAR) plus
``NERFSTUDIO_OPENCV``, nerfstudio's ``OPENCV`` with its 8th-order ``k4`` (no COLMAP model has it).

Conventions
-----------
- Camera axes are OpenCV's (x right, y down, z forward).
- Pixels: ours put pixel (u, v)'s centre at integer (u, v) (OpenCV); COLMAP and nerfstudio put the
  top-left pixel's centre at (0.5, 0.5), so their principal point is ours + 0.5.  ``params`` keep
  COLMAP's values (``cx`` = ``K[0, 2] + 0.5``); :attr:`LensModel.K` and every method that takes or
  gives a pixel use ours.
- Two families:

  ``pinhole`` (SIMPLE_PINHOLE, PINHOLE, SIMPLE_RADIAL, RADIAL, OPENCV, FULL_OPENCV, FOV,
  SIMPLE_DIVISION, DIVISION, NERFSTUDIO_OPENCV): a = (x/z, y/z) is distorted on the normalised plane,
  pixel = f * D(a) + c.  Only z > 0 is seen.  Depth is planar z (``depth_kind`` ``planar``).

  ``fisheye`` (SIMPLE_FISHEYE, FISHEYE, OPENCV_FISHEYE, SIMPLE_RADIAL_FISHEYE, RADIAL_FISHEYE,
  THIN_PRISM_FISHEYE, RAD_TAN_THIN_PRISM_FISHEYE): t = theta * (x, y) / |(x, y)|, theta the angle from
  the optical axis, is distorted, pixel = f * D(t) + c.  COLMAP computes theta = atan(|(x/z, y/z)|),
  which exists for z > 0 only; here theta = atan2(|(x, y)|, z), the same for z > 0 and continued up to
  pi (as nerfstudio's fisheye does), so fisheye rays may go beyond 90 degrees.  Depth is the ray
  length (``ray_length``).

- :meth:`LensModel.unproject` solves D(a) = m per pixel to float64 precision: a bracketed 1-D Newton
  on the radius for radially symmetric distortion, a 2-D Newton with the analytic Jacobian (started
  from the radial solution) otherwise; FOV and the division models have closed forms.  A pixel has no
  ray (it is background, ``valid`` False) where the distortion has no inverse: beyond the first fold of
  the radial profile (where d(rho_d)/d(rho) reaches 0: a non-monotonic polynomial), beyond a fisheye's
  reach (theta > pi), where the Jacobian determinant is not positive on the segment from the centre to
  the solution, where Newton does not converge, or where a closed form has no answer.

Every ray is pycolmap's ``Camera.cam_from_img`` of the pixel centre (below 90 degrees for fisheyes,
where COLMAP's own fisheye unprojection is right), to ~1e-11 (COLMAP's Newton stops at a step of 1e-5).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import DepthViewsError

PINHOLE_FAMILY, FISHEYE_FAMILY = "pinhole", "fisheye"
DEPTH_KIND = {PINHOLE_FAMILY: "planar", FISHEYE_FAMILY: "ray_length"}
PIXEL_CENTRE_OFFSET = 0.5
"""COLMAP / nerfstudio pixel coordinate = ours + 0.5."""

_GRID = 8193              # samples of the radial profile (locating its first fold)
_PINHOLE_MAX_DEG = 89.99  # the pinhole family's radial scan goes up to this field angle
_NEWTON_1D_ITERS = 60
_NEWTON_2D_ITERS = 60
_SEGMENT_SAMPLES = 16     # Jacobian checks on the segment from the centre to a 2-D solution


# -- distortion functions -----------------------------------------------------------------------------
# Each maps (x, y) (normalised plane or theta space) to the distorted (xd, yd) and the Jacobian
# (j00 = dxd/dx, j01 = dxd/dy, j10 = dyd/dx, j11 = dyd/dy); ``e`` are the parameters after fx fy cx cy,
# in COLMAP's order.

def _poly(coeffs, s):
    """(1 + c1 s + c2 s^2 + ..., its derivative in s), by Horner."""
    value = np.zeros_like(s)
    deriv = np.zeros_like(s)
    for c in reversed(coeffs):
        deriv = deriv * s + value
        value = value * s + c
    return 1.0 + s * value, value + s * deriv


def _radtan(x, y, num, den=(), p1=0.0, p2=0.0, sx1=0.0, sy1=0.0):
    """xd = x R + 2 p1 x y + p2 (s + 2 x^2) + sx1 s,  yd = y R + 2 p2 x y + p1 (s + 2 y^2) + sy1 s,
    with s = x^2 + y^2 and R = (1 + num . s^i) / (1 + den . s^i)."""
    s = x * x + y * y
    n, dn = _poly(num, s)
    if den:
        d, dd = _poly(den, s)
        radial = n / d
        radial_d = (dn * d - n * dd) / (d * d)
    else:
        radial, radial_d = n, dn
    xd = x * radial + 2 * p1 * x * y + p2 * (s + 2 * x * x) + sx1 * s
    yd = y * radial + 2 * p2 * x * y + p1 * (s + 2 * y * y) + sy1 * s
    j00 = radial + 2 * x * x * radial_d + 2 * p1 * y + 6 * p2 * x + 2 * sx1 * x
    j01 = 2 * x * y * radial_d + 2 * p1 * x + 2 * p2 * y + 2 * sx1 * y
    j10 = 2 * x * y * radial_d + 2 * p2 * y + 2 * p1 * x + 2 * sy1 * x
    j11 = radial + 2 * y * y * radial_d + 2 * p2 * x + 6 * p1 * y + 2 * sy1 * y
    return xd, yd, j00, j01, j10, j11


def _d_none(e, x, y):
    one, zero = np.ones_like(x), np.zeros_like(x)
    return x, y, one, zero, zero, one


def _d_simple_radial(e, x, y):
    return _radtan(x, y, (e[0],))


def _d_radial(e, x, y):
    return _radtan(x, y, (e[0], e[1]))


def _d_opencv(e, x, y):
    k1, k2, p1, p2 = e
    return _radtan(x, y, (k1, k2), p1=p1, p2=p2)


def _d_full_opencv(e, x, y):
    k1, k2, p1, p2, k3, k4, k5, k6 = e
    return _radtan(x, y, (k1, k2, k3), (k4, k5, k6), p1=p1, p2=p2)


def _d_opencv_fisheye(e, x, y):
    return _radtan(x, y, tuple(e))


def _d_thin_prism(e, x, y):
    k1, k2, p1, p2, k3, k4, sx1, sy1 = e
    return _radtan(x, y, (k1, k2, k3, k4), p1=p1, p2=p2, sx1=sx1, sy1=sy1)


def _d_nerfstudio_opencv(e, x, y):
    k1, k2, k3, k4, p1, p2 = e
    return _radtan(x, y, (k1, k2, k3, k4), p1=p1, p2=p2)


def _d_rad_tan_thin_prism(e, x, y):
    """COLMAP's RAD_TAN_THIN_PRISM_FISHEYE (Aria's Fisheye624): radial in theta (k0..k5), then
    tangential (p0, p1) and thin prism (s0..s3) on the radially distorted point."""
    p0, p1, s0, s1, s2, s3 = e[6:]
    s = x * x + y * y
    radial, radial_d = _poly(e[:6], s)
    X, Y = radial * x, radial * y
    a00, a01, a11 = radial + 2 * radial_d * x * x, 2 * radial_d * x * y, radial + 2 * radial_d * y * y
    r2 = X * X + Y * Y
    r4 = r2 * r2
    xd = X + 2 * p1 * X * Y + p0 * (r2 + 2 * X * X) + s0 * r2 + s1 * r4
    yd = Y + 2 * p0 * X * Y + p1 * (r2 + 2 * Y * Y) + s2 * r2 + s3 * r4
    b00 = 1 + 2 * p1 * Y + 6 * p0 * X + 2 * s0 * X + 4 * s1 * r2 * X
    b01 = 2 * p1 * X + 2 * p0 * Y + 2 * s0 * Y + 4 * s1 * r2 * Y
    b10 = 2 * p0 * Y + 2 * p1 * X + 2 * s2 * X + 4 * s3 * r2 * X
    b11 = 1 + 2 * p0 * X + 6 * p1 * Y + 2 * s2 * Y + 4 * s3 * r2 * Y
    return (xd, yd, b00 * a00 + b01 * a01, b00 * a01 + b01 * a11,
            b10 * a00 + b11 * a01, b10 * a01 + b11 * a11)


def _fov_forward_factor(omega, s):
    """rho_d / rho of the FOV model, rho_d = atan(2 rho tan(omega / 2)) / omega (s = rho^2): the exact
    formula with its limits at rho = 0 and omega = 0 (COLMAP uses truncated Taylor branches near both)."""
    rho = np.sqrt(s)
    if omega == 0.0:
        return np.ones_like(s)
    t = 2.0 * math.tan(omega / 2.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.arctan(rho * t) / (rho * omega)
    return np.where(rho > 0, f, t / omega)


def _fov_inverse_factor(omega, s):
    """rho / rho_d = tan(rho_d omega) / (2 rho_d tan(omega / 2)), exact (s = rho_d^2)."""
    rho = np.sqrt(s)
    if omega == 0.0:
        return np.ones_like(s)
    t = 2.0 * math.tan(omega / 2.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.tan(rho * omega) / (rho * t)
    return np.where(rho > 0, f, omega / t)


@dataclass(frozen=True)
class ModelSpec:
    """One lens model: its COLMAP name and id (None: not a COLMAP model), parameter names in COLMAP's
    order, family, distortion function (None: a closed form) and the parameters that break radial
    symmetry (tangential, thin prism)."""

    name: str
    colmap_id: int | None
    params: tuple[str, ...]
    family: str
    distortion: Callable | None
    asymmetric: tuple[str, ...] = ()

    @property
    def n_focal(self) -> int:
        return 1 if self.params[0] == "f" else 2

    @property
    def extra_names(self) -> tuple[str, ...]:
        """The names of the parameters after the focal lengths and principal point."""
        return self.params[self.n_focal + 2:]

    @property
    def depth_kind(self) -> str:
        return DEPTH_KIND[self.family]


def _spec(name, colmap_id, params, family, distortion, asymmetric=""):
    return ModelSpec(name, colmap_id, tuple(params.split()), family, distortion, tuple(asymmetric.split()))


MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in [
    _spec("SIMPLE_PINHOLE", 0, "f cx cy", PINHOLE_FAMILY, _d_none),
    _spec("PINHOLE", 1, "fx fy cx cy", PINHOLE_FAMILY, _d_none),
    _spec("SIMPLE_RADIAL", 2, "f cx cy k", PINHOLE_FAMILY, _d_simple_radial),
    _spec("RADIAL", 3, "f cx cy k1 k2", PINHOLE_FAMILY, _d_radial),
    _spec("OPENCV", 4, "fx fy cx cy k1 k2 p1 p2", PINHOLE_FAMILY, _d_opencv, "p1 p2"),
    _spec("OPENCV_FISHEYE", 5, "fx fy cx cy k1 k2 k3 k4", FISHEYE_FAMILY, _d_opencv_fisheye),
    _spec("FULL_OPENCV", 6, "fx fy cx cy k1 k2 p1 p2 k3 k4 k5 k6", PINHOLE_FAMILY, _d_full_opencv, "p1 p2"),
    _spec("FOV", 7, "fx fy cx cy omega", PINHOLE_FAMILY, None),
    _spec("SIMPLE_RADIAL_FISHEYE", 8, "f cx cy k", FISHEYE_FAMILY, _d_simple_radial),
    _spec("RADIAL_FISHEYE", 9, "f cx cy k1 k2", FISHEYE_FAMILY, _d_radial),
    _spec("THIN_PRISM_FISHEYE", 10, "fx fy cx cy k1 k2 p1 p2 k3 k4 sx1 sy1", FISHEYE_FAMILY, _d_thin_prism,
          "p1 p2 sx1 sy1"),
    _spec("RAD_TAN_THIN_PRISM_FISHEYE", 11, "fx fy cx cy k0 k1 k2 k3 k4 k5 p0 p1 s0 s1 s2 s3", FISHEYE_FAMILY,
          _d_rad_tan_thin_prism, "p0 p1 s0 s1 s2 s3"),
    _spec("SIMPLE_DIVISION", 12, "f cx cy k", PINHOLE_FAMILY, None),
    _spec("DIVISION", 13, "fx fy cx cy k", PINHOLE_FAMILY, None),
    _spec("SIMPLE_FISHEYE", 14, "f cx cy", FISHEYE_FAMILY, _d_none),
    _spec("FISHEYE", 15, "fx fy cx cy", FISHEYE_FAMILY, _d_none),
    # nerfstudio's OPENCV: radial 1 + k1 r^2 + k2 r^4 + k3 r^6 + k4 r^8 (a polynomial, unlike FULL_OPENCV's
    # rational k4..k6) plus OpenCV's tangential p1 p2.  Not a COLMAP model.
    _spec("NERFSTUDIO_OPENCV", None, "fx fy cx cy k1 k2 k3 k4 p1 p2", PINHOLE_FAMILY, _d_nerfstudio_opencv, "p1 p2"),
]}
NERFSTUDIO_PERSPECTIVE = ("OPENCV", "PINHOLE", "SIMPLE_PINHOLE", "SIMPLE_RADIAL", "RADIAL")
"""transforms.json ``camera_model`` names nerfstudio reads as its perspective camera (with its k's and p's)."""
NOT_LENS_MODELS = {"EUCM": "its rays can leave the front hemisphere, which COLMAP's planar unprojection "
                           "cannot give; not supported",
                   "EQUIRECTANGULAR": "not a lens: give it as an EQUIRECTANGULAR camera (docs/camera-models.md)"}


@dataclass(frozen=True)
class RadialProfile:
    """The monotone branch of rho_d = g(rho) of a radially symmetric distortion, as a table."""

    rho: np.ndarray      # increasing samples 0 .. rho_max
    rho_d: np.ndarray    # g(rho), strictly increasing
    rho_max: float       # end of the branch: the first fold, a fisheye's reach (pi) or the scan's end
    rho_d_max: float     # g(rho_max): distorted radii beyond it have no ray
    reason: str          # why the branch ends: "fold", "reach", "scan-end"


@dataclass(frozen=True, eq=False)
class LensModel:
    """A camera with lens distortion: ``name`` (a key of :data:`MODELS`), the image size in pixels and
    ``params`` in COLMAP's order with COLMAP's values (its principal point is ours + 0.5).

    Raises DepthViewsError (a message without the file: the readers prefix it) for an unknown model, a
    wrong number of parameters, a parameter that is not finite or a focal length that is not positive.
    Per-pixel arrays (:meth:`undistorted_grid`) are computed once per LensModel and kept.
    """

    name: str
    width: int
    height: int
    params: tuple
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        if self.name not in MODELS:
            why = NOT_LENS_MODELS.get(self.name)
            raise DepthViewsError(f"camera model {self.name!r}: {why}" if why else
                                  f"unknown camera model {self.name!r}; known: {', '.join(MODELS)}")
        spec = MODELS[self.name]
        try:
            params = tuple(float(p) for p in self.params)
        except (TypeError, ValueError):
            raise DepthViewsError(f"camera model {self.name}: parameters must be numbers, got {self.params!r}") \
                from None
        if len(params) != len(spec.params):
            raise DepthViewsError(f"camera model {self.name} needs {len(spec.params)} parameters "
                                  f"({' '.join(spec.params)}), got {len(params)}")
        bad = [f"{name}={value}" for name, value in zip(spec.params, params) if not math.isfinite(value)]
        if bad:
            raise DepthViewsError(f"camera model {self.name}: {', '.join(bad)}; parameters must be finite")
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "width", int(self.width))
        object.__setattr__(self, "height", int(self.height))
        if min(self.focal) <= 0:
            raise DepthViewsError(f"camera model {self.name}: focal lengths must be positive, got "
                                  f"{' '.join(f'{f:g}' for f in self.focal)}")
        if self.width <= 0 or self.height <= 0:
            raise DepthViewsError(f"camera model {self.name}: image size {self.width}x{self.height} must be positive")

    def __reduce__(self):
        """Pickled (a render's setup goes to worker processes) without the per-pixel arrays it keeps."""
        return (type(self), (self.name, self.width, self.height, self.params))

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_nerfstudio(cls, camera_model: str, width: int, height: int, fl_x: float, fl_y: float, cx: float,
                        cy: float, distortion: dict) -> LensModel:
        """From nerfstudio ``transforms.json`` values: ``camera_model`` OPENCV (or another name nerfstudio reads as
        its perspective camera: :data:`NERFSTUDIO_PERSPECTIVE`) or OPENCV_FISHEYE,
        ``cx``/``cy`` as the file has them (COLMAP's +0.5 convention), ``distortion`` {k1 k2 k3 k4 p1 p2}
        (missing ones are 0).

        nerfstudio applies one undistortion, 1 + k1 r^2 + k2 r^4 + k3 r^6 + k4 r^8 plus OpenCV's p1 p2, to
        the normalised point of an OPENCV camera and to the theta-space point of an OPENCV_FISHEYE one,
        so: OPENCV -> OPENCV (k3 = k4 = 0), FULL_OPENCV (k4 = 0; k3 is the r^6 term of both) or
        NERFSTUDIO_OPENCV (k4 != 0: its r^8 term is not COLMAP's rational k4); OPENCV_FISHEYE ->
        OPENCV_FISHEYE (p1 = p2 = 0) or THIN_PRISM_FISHEYE with sx1 = sy1 = 0.
        """
        k1, k2, k3, k4, p1, p2 = (float(distortion.get(k, 0.0)) for k in ("k1", "k2", "k3", "k4", "p1", "p2"))
        base = (fl_x, fl_y, cx, cy)
        if camera_model in NERFSTUDIO_PERSPECTIVE:
            if k3 == 0 and k4 == 0:
                return cls("OPENCV", width, height, (*base, k1, k2, p1, p2))
            if k4 == 0:
                return cls("FULL_OPENCV", width, height, (*base, k1, k2, p1, p2, k3, 0.0, 0.0, 0.0))
            return cls("NERFSTUDIO_OPENCV", width, height, (*base, k1, k2, k3, k4, p1, p2))
        if camera_model == "OPENCV_FISHEYE":
            if p1 == 0 and p2 == 0:
                return cls("OPENCV_FISHEYE", width, height, (*base, k1, k2, k3, k4))
            return cls("THIN_PRISM_FISHEYE", width, height, (*base, k1, k2, p1, p2, k3, k4, 0.0, 0.0))
        raise DepthViewsError(f"nerfstudio camera_model {camera_model!r} has no lens model here "
                              f"({', '.join(NERFSTUDIO_PERSPECTIVE)} or OPENCV_FISHEYE)")

    # -- parameters ---------------------------------------------------------------------------
    @property
    def spec(self) -> ModelSpec:
        return MODELS[self.name]

    @property
    def family(self) -> str:
        """``pinhole`` or ``fisheye`` (see the module docstring)."""
        return self.spec.family

    @property
    def depth_kind(self) -> str:
        """``planar`` for the pinhole family, ``ray_length`` for fisheyes."""
        return self.spec.depth_kind

    @property
    def key(self) -> tuple:
        """(name, width, height, params): equal keys are the same camera."""
        return (self.name, self.width, self.height, self.params)

    @property
    def focal(self) -> tuple[float, float]:
        p = self.params
        return (p[0], p[0]) if self.spec.n_focal == 1 else (p[0], p[1])

    @property
    def principal_point_colmap(self) -> tuple[float, float]:
        """COLMAP's principal point (pixel centres at +0.5), as ``params`` hold it."""
        n = self.spec.n_focal
        return self.params[n], self.params[n + 1]

    @property
    def principal_point(self) -> tuple[float, float]:
        """Ours: OpenCV pixel centres at integers (COLMAP's - 0.5)."""
        cx, cy = self.principal_point_colmap
        return cx - PIXEL_CENTRE_OFFSET, cy - PIXEL_CENTRE_OFFSET

    @property
    def K(self) -> np.ndarray:  # noqa: N802 - K is the standard name
        """3x3 OpenCV matrix (ours: pixel centres at integers) of the focal lengths and principal point."""
        (fx, fy), (cx, cy) = self.focal, self.principal_point
        return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])

    @property
    def extra(self) -> tuple[float, ...]:
        """The parameters after the focal lengths and principal point (the distortion)."""
        return self.params[self.spec.n_focal + 2:]

    def named_params(self) -> dict:
        return dict(zip(self.spec.params, self.params))

    @property
    def has_distortion(self) -> bool:
        """False when every distortion parameter is 0 (the model is then a plain pinhole or an
        equidistant fisheye)."""
        return any(value != 0.0 for value in self.extra)

    @property
    def is_radially_symmetric(self) -> bool:
        named = self.named_params()
        return all(named[k] == 0.0 for k in self.spec.asymmetric)

    def distort(self, x, y):
        """(xd, yd, j00, j01, j10, j11) of the model's distortion at (x, y) (normalised / theta space)."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if self.spec.distortion is None:
            return self._distort_closed_form(x, y)
        return self.spec.distortion(self.extra, x, y)

    def _distort_closed_form(self, x, y):
        s = x * x + y * y
        if self.name == "FOV":
            omega = self.extra[0]
            f = _fov_forward_factor(omega, s)
            t = 2.0 * math.tan(omega / 2.0)
            gp = t / (omega * (1 + s * t * t)) if omega != 0 else np.ones_like(s)
        else:  # division: m = 2 a / (1 + sqrt(1 - 4 k |a|^2))
            k = self.extra[0]
            q = np.sqrt(np.maximum(1.0 - 4.0 * k * s, 0.0))
            f = 2.0 / (1.0 + q)
            with np.errstate(divide="ignore", invalid="ignore"):
                gp = np.where(q > 0, f + f * f * 2.0 * k * s / np.where(q > 0, q, 1.0), np.inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where(s > 0, (gp - f) / np.where(s > 0, s, 1.0), 0.0)   # J = f I + (g' - f) n n^T
        return x * f, y * f, f + w * x * x, w * x * y, w * x * y, f + w * y * y

    # -- the radial profile (fold / reach) ----------------------------------------------------
    def radial_profile(self) -> RadialProfile:
        """The monotone branch of the radial part of the distortion (tangential / prism terms removed)."""
        if "profile" in self._cache:
            return self._cache["profile"]
        if self.family == FISHEYE_FAMILY:
            rho = np.linspace(0.0, math.pi, _GRID)
        else:
            rho = np.tan(np.radians(np.linspace(0.0, _PINHOLE_MAX_DEG, _GRID)))
        g, gp = self._radial_g(rho)
        with np.errstate(invalid="ignore"):
            bad = ~(np.isfinite(g) & np.isfinite(gp) & (gp > 0) & self._denominator_ok(rho))
            bad[1:] |= ~(g[1:] > g[:-1])
        reason = "reach" if self.family == FISHEYE_FAMILY else "scan-end"
        if bad.any():
            first = int(np.argmax(bad))
            if first == 0:
                raise DepthViewsError(f"camera model {self.name}: the distortion has no inverse at the principal point")
            lo, hi = rho[first - 1], rho[first]
            for _ in range(200):  # bisection to the fold (g' = 0) in float64
                mid = 0.5 * (lo + hi)
                if mid <= lo or mid >= hi:
                    break
                gm, gpm = self._radial_g(np.array([mid]))
                ok = bool(np.isfinite(gm[0]) and np.isfinite(gpm[0]) and gpm[0] > 0 and self._denominator_ok(mid))
                lo, hi = (mid, hi) if ok else (lo, mid)
            rho = np.append(rho[:first], lo)
            g = np.append(g[:first], self._radial_g(np.array([lo]))[0])
            reason = "fold"
        profile = RadialProfile(rho, g, float(rho[-1]), float(g[-1]), reason)
        self._cache["profile"] = profile
        return profile

    def _denominator_ok(self, rho):
        """FULL_OPENCV's rational profile: its denominator stays positive."""
        if self.name != "FULL_OPENCV":
            return np.ones(np.shape(rho), dtype=bool)
        k4, k5, k6 = self.extra[5:8]
        s = np.asarray(rho, dtype=np.float64) ** 2
        return 1 + s * (k4 + s * (k5 + s * k6)) > 0

    def _radial_g(self, rho):
        """g(rho) and g'(rho) of the radial part (evaluated on the x axis)."""
        rho = np.asarray(rho, dtype=np.float64)
        if self.name == "FOV":
            omega = self.extra[0]
            g = rho * _fov_forward_factor(omega, rho * rho)
            t = 2.0 * math.tan(omega / 2.0)
            gp = t / (omega * (1 + rho * rho * t * t)) if omega != 0 else np.ones_like(rho)
            return g, gp
        if self.name in ("SIMPLE_DIVISION", "DIVISION"):
            xd, _, j00, _, _, _ = self._distort_closed_form(rho, np.zeros_like(rho))
            ok = 1.0 - 4.0 * self.extra[0] * rho * rho >= 0
            return np.where(ok, xd, np.nan), np.where(ok, j00, np.nan)
        numerator, denominator = self.radial_coefficients()
        with np.errstate(over="ignore", invalid="ignore"):
            s2 = rho * rho
            radial, radial_d = _poly(numerator, s2)
            if denominator:
                d, dd = _poly(denominator, s2)
                radial, radial_d = radial / d, (radial_d * d - radial * dd) / (d * d)
            return rho * radial, radial + 2.0 * s2 * radial_d

    def radial_coefficients(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """(numerator, denominator) of the radial factor R(s) = (1 + n1 s + n2 s^2 + ...) / (1 + d1 s + ...),
        s = |a|^2, of every polynomial model (the closed forms FOV and division have none: ((), ()))."""
        n = self.named_params()
        name = self.name
        if name in ("SIMPLE_RADIAL", "SIMPLE_RADIAL_FISHEYE"):
            return (n["k"],), ()
        if name in ("RADIAL", "RADIAL_FISHEYE", "OPENCV"):
            return (n["k1"], n["k2"]), ()
        if name == "FULL_OPENCV":
            return (n["k1"], n["k2"], n["k3"]), (n["k4"], n["k5"], n["k6"])
        if name in ("OPENCV_FISHEYE", "THIN_PRISM_FISHEYE", "NERFSTUDIO_OPENCV"):
            return (n["k1"], n["k2"], n["k3"], n["k4"]), ()
        if name == "RAD_TAN_THIN_PRISM_FISHEYE":
            return tuple(n[f"k{i}"] for i in range(6)), ()
        return (), ()

    # -- projection ---------------------------------------------------------------------------
    def project(self, points_cam) -> tuple[np.ndarray, np.ndarray]:
        """Our pixel coordinates ``(uv (N, 2), ok (N,))`` of OpenCV camera points (N, 3).

        ``uv`` is COLMAP's ``img_from_cam`` minus 0.5 wherever COLMAP projects (z > 0); fisheye points
        with z <= 0 get theta = atan2(|(x, y)|, z) up to pi.  ``ok`` is False where the model does not
        see the point through a unique pixel: behind a pinhole (z <= 0), beyond the radial profile's
        fold or a fisheye's reach, or a non-positive Jacobian on the way there.
        """
        p = np.asarray(points_cam, dtype=np.float64).reshape(-1, 3)
        x, y, z = p.T
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.family == PINHOLE_FAMILY:
                front = z >= np.finfo(np.float64).eps
                safe_z = np.where(front, z, 1.0)
                a, b = x / safe_z, y / safe_z
            else:
                r = np.hypot(x, y)
                theta = np.arctan2(r, z)
                scale = np.where(r > 0, theta / np.where(r > 0, r, 1.0), 1.0 / np.where(z > 0, z, 1.0))
                a, b = x * scale, y * scale
                front = (np.linalg.norm(p, axis=1) > 0) & (theta < math.pi)
            xd, yd, *_ = self.distort(a, b)
            (fx, fy), (cx, cy) = self.focal, self.principal_point
            u, v = fx * xd + cx, fy * yd + cy
            ok = front & np.isfinite(u) & np.isfinite(v) & self._in_domain(a, b)
        return np.stack([u, v], axis=-1), ok

    def _in_domain(self, a, b) -> np.ndarray:
        """Undistorted points (normalised / theta space) on the invertible branch."""
        rho = np.hypot(a, b)
        if self.name in ("SIMPLE_DIVISION", "DIVISION"):
            return 1.0 - 4.0 * self.extra[0] * rho * rho >= 0
        if not self.is_radially_symmetric:
            return self._segment_ok(a, b)
        profile = self.radial_profile()
        return rho <= profile.rho_max if profile.reason != "scan-end" else np.isfinite(rho)

    def _segment_ok(self, a, b) -> np.ndarray:
        """Jacobian determinant > 0 on the segment from the centre to (a, b) (sampled); fisheye theta <= pi."""
        ok = np.ones(np.shape(a), dtype=bool)
        with np.errstate(over="ignore", invalid="ignore"):
            for t in np.linspace(1.0 / _SEGMENT_SAMPLES, 1.0, _SEGMENT_SAMPLES):
                _, _, j00, j01, j10, j11 = self.distort(a * t, b * t)
                ok &= (j00 * j11 - j01 * j10) > 0
        if self.family == FISHEYE_FAMILY:
            ok &= np.hypot(a, b) <= math.pi
        return ok

    # -- unprojection -------------------------------------------------------------------------
    def unproject(self, u, v) -> tuple[np.ndarray, np.ndarray]:
        """Unit rays ``(..., 3)`` (OpenCV camera axes) of our pixel coordinates, and ``valid``.

        The ray is the model's exact inverse at (u, v): pycolmap's ``cam_from_img`` of (u + 0.5, v + 0.5),
        normalised (continued beyond 90 degrees for fisheyes).  Pixels without a ray get 0.
        """
        a, b, valid = self.undistort(u, v)
        return self._rays(a, b, valid), valid

    def _rays(self, a, b, valid) -> np.ndarray:
        if self.family == PINHOLE_FAMILY:
            d = np.stack([a, b, np.ones_like(a)], axis=-1)
            d /= np.linalg.norm(d, axis=-1, keepdims=True)
        else:
            theta = np.hypot(a, b)
            s = np.sinc(theta / math.pi)  # sin(theta) / theta, 1 at 0
            d = np.stack([a * s, b * s, np.cos(theta)], axis=-1)
        return np.where(valid[..., None], d, 0.0)

    def undistort(self, u, v):
        """(a, b, valid): the undistorted normalised (pinhole family) or theta-space (fisheye) point of our
        pixel (u, v); 0 where there is none."""
        u = np.asarray(u, dtype=np.float64)
        v = np.asarray(v, dtype=np.float64)
        shape = np.broadcast(u, v).shape
        (fx, fy), (cx, cy) = self.focal, self.principal_point
        mx = np.broadcast_to((u - cx) / fx, shape).ravel()
        my = np.broadcast_to((v - cy) / fy, shape).ravel()
        with np.errstate(over="ignore", invalid="ignore"):
            if self.name == "FOV":
                a, b, valid = self._undistort_fov(mx, my)
            elif self.name in ("SIMPLE_DIVISION", "DIVISION"):
                den = 1.0 + self.extra[0] * (mx * mx + my * my)
                valid = den > 0
                den = np.where(valid, den, 1.0)
                a, b = mx / den, my / den
            elif self.is_radially_symmetric:
                a, b, valid = self._undistort_radial(mx, my, self.radial_profile())
            else:   # the radial part only starts the 2-D Newton: a few steps suffice
                a, b, valid = self._undistort_radial(mx, my, self.radial_profile(), iterations=3)
                a, b, valid = self._undistort_newton_2d(mx, my, a, b, valid)
        valid = valid & np.isfinite(a) & np.isfinite(b)
        if self.family == FISHEYE_FAMILY:
            valid &= np.hypot(a, b) <= math.pi
        a = np.where(valid, a, 0.0)
        b = np.where(valid, b, 0.0)
        return a.reshape(shape), b.reshape(shape), valid.reshape(shape)

    def _undistort_fov(self, mx, my):
        omega = self.extra[0]
        rho_d = np.hypot(mx, my)
        valid = rho_d * abs(omega) < math.pi / 2
        f = _fov_inverse_factor(omega, np.where(valid, rho_d * rho_d, 0.0))
        return mx * f, my * f, valid

    def _undistort_radial(self, mx, my, profile: RadialProfile, iterations: int = _NEWTON_1D_ITERS):
        """Solve g(rho) = |m| on the monotone branch (bracketed Newton) and scale m.  For an asymmetric
        model this is the radial part only (the 2-D Newton's start, a few ``iterations``); ``valid`` then
        says it exists."""
        rho_d = np.hypot(mx, my)
        valid = rho_d < profile.rho_d_max if profile.reason != "reach" else rho_d <= profile.rho_d_max
        target = np.where(valid, rho_d, 0.0)
        i = np.clip(np.searchsorted(profile.rho_d, target, side="right"), 1, len(profile.rho) - 1)
        lo, hi = profile.rho[i - 1], profile.rho[i]
        glo, ghi = profile.rho_d[i - 1], profile.rho_d[i]
        rho = lo + (hi - lo) * np.clip((target - glo) / np.where(ghi > glo, ghi - glo, 1.0), 0.0, 1.0)
        active = np.flatnonzero(target > 0)   # only unconverged pixels are iterated on
        eps = np.finfo(np.float64).eps
        for _ in range(iterations):
            if active.size == 0:
                break
            r_, lo_, hi_, t_ = rho[active], lo[active], hi[active], target[active]
            g, gp = self._radial_g(r_)
            res = g - t_
            lo_ = np.where(res <= 0, np.maximum(lo_, r_), lo_)
            hi_ = np.where(res >= 0, np.minimum(hi_, r_), hi_)
            with np.errstate(divide="ignore", invalid="ignore"):
                new = r_ - res / gp
            outside = ~np.isfinite(new) | (new < lo_) | (new > hi_)
            new = np.where(outside, 0.5 * (lo_ + hi_), new)
            rho[active], lo[active], hi[active] = new, lo_, hi_
            # a step of a few ulps: Newton's quadratic convergence has reached float64 precision
            active = active[np.abs(new - r_) > 4 * eps * np.maximum(np.abs(r_), 1e-300)]
        if iterations == _NEWTON_1D_ITERS:
            g, _ = self._radial_g(rho)
            converged = np.abs(g - target) <= 8 * eps * np.maximum(target, 1e-300)
            valid &= converged | (target == 0)
        slope0 = self._radial_g(np.zeros(1))[1][0]
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(rho_d > 0, rho / np.where(rho_d > 0, rho_d, 1.0), 1.0 / slope0)
        return mx * scale, my * scale, valid

    def _undistort_newton_2d(self, mx, my, a, b, started):
        """2-D Newton on D(a, b) = (mx, my) with the analytic Jacobian from the radial solution (or from m
        where the radial part has none); a step is at most a quarter of max(|a|, 0.1)."""
        a = np.where(started, a, mx).copy()
        b = np.where(started, b, my).copy()
        eps = np.finfo(np.float64).eps
        active = np.arange(a.size)
        for _ in range(_NEWTON_2D_ITERS):
            if active.size == 0:
                break
            a_, b_ = a[active], b[active]
            xd, yd, j00, j01, j10, j11 = self.distort(a_, b_)
            rx, ry = xd - mx[active], yd - my[active]
            det = j00 * j11 - j01 * j10
            with np.errstate(divide="ignore", invalid="ignore"):
                sx = (j11 * rx - j01 * ry) / det
                sy = (j00 * ry - j10 * rx) / det
            norm = np.hypot(sx, sy)
            limit = 0.25 * np.maximum(np.hypot(a_, b_), 0.1)
            shrink = np.where(norm > limit, limit / np.where(norm > 0, norm, 1.0), 1.0)
            a_, b_ = a_ - sx * shrink, b_ - sy * shrink
            a[active], b[active] = a_, b_
            step = norm * shrink
            active = active[~(step <= 4 * eps * np.maximum(np.hypot(a_, b_), 1.0))]   # NaN stays active
        xd, yd, *_ = self.distort(a, b)
        residual = np.hypot(xd - mx, yd - my)
        valid = np.isfinite(residual) & (residual <= 64 * eps * np.maximum(np.hypot(mx, my), 1.0))
        valid &= self._connected(a, b, valid)
        return a, b, valid

    def _connected(self, a, b, solved) -> np.ndarray:
        """:meth:`_segment_ok` of the solutions (a, b) (on the sheet of the inverse connected to the centre),
        fast for whole images: a polar table of the first radius where the Jacobian determinant stops being
        positive along each direction (720 directions x 512 radii up to the largest |(a, b)|) clears the
        solutions well inside it; only those within 2 % of that radius (near a fold) are checked one by one."""
        radius = np.hypot(a, b)
        ok = np.zeros(np.shape(a), dtype=bool)
        if not np.any(solved):
            return ok
        r_max = float(np.max(radius[solved])) * 1.01 + 1e-12
        n_angles, n_radii = 720, 512
        phi = np.linspace(-math.pi, math.pi, n_angles + 1)
        r = np.linspace(0.0, r_max, n_radii + 1)[1:]
        with np.errstate(over="ignore", invalid="ignore"):
            _, _, j00, j01, j10, j11 = self.distort(np.cos(phi)[:, None] * r, np.sin(phi)[:, None] * r)
            bad = ~((j00 * j11 - j01 * j10) > 0)
        first = np.argmax(bad, axis=1)
        fold = np.where(bad.any(axis=1), np.where(first > 0, r[np.maximum(first - 1, 0)], 0.0), np.inf)
        at = np.clip(((np.arctan2(b, a) + math.pi) / (2 * math.pi) * n_angles).astype(np.int64), 0, n_angles - 1)
        safe = np.minimum(fold[at], fold[at + 1])
        clear = solved & (radius <= 0.98 * safe)
        if self.family == FISHEYE_FAMILY:
            clear &= radius <= math.pi
        ok |= clear
        near = np.flatnonzero(solved & ~clear)
        if near.size:
            ok[near] = self._segment_ok(a[near], b[near])
        return ok

    def check_invertible(self) -> None:
        """DepthViewsError unless the pixels around the principal point (it and its 8 neighbours, one pixel
        away) have an exact inverse: a distortion so strong that even the centre folds back cannot be
        rendered (its image would hold no ray near the optical axis)."""
        cx, cy = self.principal_point
        u, v = np.meshgrid(cx + np.array([-1.0, 0.0, 1.0]), cy + np.array([-1.0, 0.0, 1.0]))
        _, _, valid = self.undistort(u, v)
        if not valid.all():
            profile = self.radial_profile() if self.spec.distortion is not None else None
            where = ""
            if profile is not None and profile.reason == "fold":
                where = f" (its radial profile folds back {profile.rho_d_max * min(self.focal):.2g} pixels from it)"
            raise DepthViewsError(f"camera model {self.name}: the distortion has no exact inverse within one pixel "
                                  f"of the principal point{where}; it cannot be rendered")

    # -- per-pixel arrays (cached) ------------------------------------------------------------
    def pixel_grid(self):
        """(u, v) (H, W) of every pixel centre, ours."""
        return np.meshgrid(np.arange(self.width, dtype=np.float64), np.arange(self.height, dtype=np.float64))

    def undistorted_grid(self):
        """:meth:`undistort` of every pixel centre, (a, b, valid) each (H, W), computed once (read-only)."""
        if "grid" not in self._cache:
            arrays = self.undistort(*self.pixel_grid())
            for array in arrays:
                array.setflags(write=False)
            self._cache["grid"] = arrays
        return self._cache["grid"]

    def depth_rays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(directions (H, W, 3), valid (H, W))`` at every pixel centre: (a, b, 1) for planar depth (pinhole
        family), unit length for ray length (fisheyes); 0 where there is no ray.  The point seen at depth d
        is ``d * directions``."""
        a, b, valid = self.undistorted_grid()
        if self.family == PINHOLE_FAMILY:
            rays = np.stack([a, b, np.ones_like(a)], axis=-1)
            return np.where(valid[..., None], rays, 0.0), valid.copy()
        return self._rays(a, b, valid), valid.copy()

    def distance_factor(self) -> np.ndarray:
        """(H, W): depth = factor * (distance from the camera centre), 1 / |(a, b, 1)| for the pinhole
        family and 1 for fisheyes; NaN where there is no ray.  Computed once."""
        if "factor" not in self._cache:
            a, b, valid = self.undistorted_grid()
            factor = np.ones(a.shape) if self.family == FISHEYE_FAMILY else 1.0 / np.sqrt(1.0 + a * a + b * b)
            factor = np.where(valid, factor, np.nan)
            factor.setflags(write=False)
            self._cache["factor"] = factor
        return self._cache["factor"]

    def distance_to_depth(self, distance) -> np.ndarray:
        """A per-pixel distance from the camera centre (Cycles' Depth pass of a Custom camera) in this
        model's depth contract: planar z = distance / |(a, b, 1)| (pinhole family) or the distance itself
        (fisheyes); +inf where there is no ray or no surface."""
        distance = np.asarray(distance, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            depth = distance * self.distance_factor()
        return np.where(np.isfinite(depth), depth, np.inf)

    def pixel_box(self, camera_points, margin: int = 1):
        """Half-open pixel rectangle ``(u0, u1, v0, v1)`` holding every pixel whose ray can meet the convex
        hull of ``camera_points`` (OpenCV camera frame), or None (not trusted or empty).

        Exact for pixel-centre rays: with every point in front (z > 0), a ray meets the hull only if it
        points forward and its (x/z, y/z) lies in the box of the points' (x/z, y/z) (central projection
        keeps the hull convex).  The pixels' rays are computed once per camera.
        """
        p = np.asarray(camera_points, dtype=np.float64).reshape(-1, 3)
        if len(p) == 0 or not np.all(np.isfinite(p)) or not np.all(p[:, 2] > 0):
            return None
        if "slopes" not in self._cache:
            a, b, valid = self.undistorted_grid()
            rays = self._rays(a, b, valid)
            forward = valid & (rays[..., 2] > 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                sx = np.where(forward, rays[..., 0] / rays[..., 2], np.nan)
                sy = np.where(forward, rays[..., 1] / rays[..., 2], np.nan)
            self._cache["slopes"] = (sx, sy)
        sx, sy = self._cache["slopes"]
        px, py = p[:, 0] / p[:, 2], p[:, 1] / p[:, 2]
        with np.errstate(invalid="ignore"):
            inside = (sx >= px.min()) & (sx <= px.max()) & (sy >= py.min()) & (sy <= py.max())
        rows, columns = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
        if rows.size == 0:
            return None
        return (max(0, int(columns[0]) - margin), min(self.width, int(columns[-1]) + 1 + margin),
                max(0, int(rows[0]) - margin), min(self.height, int(rows[-1]) + 1 + margin))

    # -- files --------------------------------------------------------------------------------
    def to_json(self) -> dict:
        """``camera_model`` and ``lens_params`` (COLMAP's order and values, as cameras.txt holds them),
        ``lens_param_names`` and ``depth_kind``: what cameras.json states about a lens."""
        return {"camera_model": self.name, "lens_params": list(self.params),
                "lens_param_names": list(self.spec.params), "depth_kind": self.depth_kind}

    def colmap_camera(self) -> tuple[str, tuple[float, ...]] | None:
        """(COLMAP model name, params) for cameras.txt, or None when COLMAP has no such model."""
        return None if self.spec.colmap_id is None else (self.name, self.params)

    def to_nerfstudio(self) -> dict | None:
        """transforms.json camera keys (``camera_model``, ``fl_x fl_y cx cy w h``, k's and p's) whose rays
        nerfstudio's ray generator makes equal to ours, or None when nerfstudio has no such camera."""
        n = self.named_params()
        (fx, fy), (cx, cy) = self.focal, self.principal_point_colmap
        base = {"fl_x": fx, "fl_y": fy, "cx": cx, "cy": cy, "w": self.width, "h": self.height}
        z = 0.0
        if self.name in ("SIMPLE_PINHOLE", "PINHOLE"):
            return {"camera_model": "OPENCV", **base, "k1": z, "k2": z, "p1": z, "p2": z}
        if self.name in ("SIMPLE_RADIAL", "RADIAL", "OPENCV"):
            return {"camera_model": "OPENCV", **base, "k1": n.get("k1", n.get("k", z)), "k2": n.get("k2", z),
                    "p1": n.get("p1", z), "p2": n.get("p2", z)}
        if self.name == "FULL_OPENCV" and n["k4"] == n["k5"] == n["k6"] == 0:
            return {"camera_model": "OPENCV", **base, **{k: n[k] for k in ("k1", "k2", "k3", "p1", "p2")}, "k4": z}
        if self.name == "NERFSTUDIO_OPENCV":
            return {"camera_model": "OPENCV", **base, **{k: n[k] for k in ("k1", "k2", "k3", "k4", "p1", "p2")}}
        if self.name in ("SIMPLE_FISHEYE", "FISHEYE", "SIMPLE_RADIAL_FISHEYE", "RADIAL_FISHEYE", "OPENCV_FISHEYE"):
            return {"camera_model": "OPENCV_FISHEYE", **base, "k1": n.get("k1", n.get("k", z)), "k2": n.get("k2", z),
                    "k3": n.get("k3", z), "k4": n.get("k4", z)}
        if self.name == "THIN_PRISM_FISHEYE" and n["sx1"] == n["sy1"] == 0:
            return {"camera_model": "OPENCV_FISHEYE", **base,
                    **{k: n[k] for k in ("k1", "k2", "k3", "k4", "p1", "p2")}}
        return None


def lens_from_json(document: dict, width: int, height: int) -> LensModel:
    """The :class:`LensModel` of a cameras.json block (``camera_model``, ``lens_params``).  Blocks of one lens
    (every view of a render) share one LensModel, so its per-pixel arrays are computed once."""
    params = document.get("lens_params")
    if not isinstance(params, (list, tuple)):
        raise DepthViewsError(f"camera model {document.get('camera_model')!r}: lens_params is not a list of numbers")
    try:
        key = (str(document.get("camera_model")), int(width), int(height), tuple(float(p) for p in params))
    except (TypeError, ValueError):
        return LensModel(str(document.get("camera_model")), width, height, tuple(params))   # raises, naming it
    return _shared_lens(*key)


@functools.lru_cache(maxsize=32)
def _shared_lens(name: str, width: int, height: int, params: tuple) -> LensModel:
    return LensModel(name, width, height, params)
