"""Realistic lens cameras for the lens tests (tests/cameras/test_lens.py, tests/render/test_lens_render.py) and
benchmarks/lens_models.py: every model, off-centre principal points and fx != fy, scaled to any image size.

The parameters are COLMAP's (cameras.txt values: principal point at +0.5), taken from the kinds of files
people have: a phone (OPENCV), ScanNet++'s DSLR (OPENCV_FISHEYE), ETH3D (THIN_PRISM_FISHEYE), Aria
(RAD_TAN_THIN_PRISM_FISHEYE), nerfstudio's 8th-order OPENCV, a fisheye that sees behind itself and a barrel
lens whose corners lie beyond its fold (pixels without a ray).
"""

from __future__ import annotations

from depth_views.cameras.lens import LensModel

CASES = {  # name: (model, parameters at 640 x 480; the first four scale with the image)
    "OPENCV": ("OPENCV", [520, 523, 331.7, 237.4, 0.061, -0.117, 0.0011, -0.0007]),
    "FULL_OPENCV": ("FULL_OPENCV", [480, 484, 316.2, 247.9, -0.21, 0.05, 0.0009, -0.0004, -0.004, 0.02, -0.01, 0.002]),
    "SIMPLE_RADIAL": ("SIMPLE_RADIAL", [500, 322.1, 236.3, -0.09]),
    "RADIAL": ("RADIAL", [500, 318.0, 243.0, -0.16, 0.03]),
    "OPENCV_FISHEYE": ("OPENCV_FISHEYE", [288.3, 289.1, 326.4, 236.9, -0.0306, -0.0048, 0.0012, -0.0002]),
    "THIN_PRISM_FISHEYE": ("THIN_PRISM_FISHEYE", [245.0, 244.2, 318.4, 243.6, 0.0027, -0.0044, 0.0008, -0.0005,
                                                  0.0036, -0.0011, 0.0007, -0.0004]),
    "SIMPLE_RADIAL_FISHEYE": ("SIMPLE_RADIAL_FISHEYE", [190.0, 322.0, 235.0, 0.03]),
    "RADIAL_FISHEYE": ("RADIAL_FISHEYE", [190.0, 317.0, 244.0, 0.03, -0.002]),
    "FOV": ("FOV", [300.0, 302.0, 321.0, 238.0, 0.92]),
    "RAD_TAN_THIN_PRISM_FISHEYE": ("RAD_TAN_THIN_PRISM_FISHEYE", [241.0, 241.5, 318.8, 241.3, -0.0255, 0.0967, -0.0697,
                                                                  0.0158, 0.0021, -0.0009, 0.0008, -0.0003, -0.0007,
                                                                  0.0001, 0.0004, -0.0001]),
    "SIMPLE_DIVISION": ("SIMPLE_DIVISION", [455, 321.0, 241.0, -0.06]),
    "DIVISION": ("DIVISION", [450, 452, 323.0, 238.0, -0.08]),
    "NERFSTUDIO_OPENCV": ("NERFSTUDIO_OPENCV", [500, 503, 322.0, 239.0, -0.2, 0.06, -0.01, 0.002, 0.0008, -0.0004]),
    "SIMPLE_FISHEYE": ("SIMPLE_FISHEYE", [200.0, 318.5, 241.5]),
    "FISHEYE": ("FISHEYE", [205.0, 198.0, 324.0, 236.0]),
    # equidistant-like, reaching 180 degrees off axis: rays behind the image plane, the corners beyond its reach
    "OPENCV_FISHEYE-180": ("OPENCV_FISHEYE", [110.0, 110.0, 330.0, 236.0, 0.01, -0.001, 0.0, 0.0]),
    # a strong barrel whose corners lie beyond the fold: those pixels have no ray
    "OPENCV-folded": ("OPENCV", [300, 300, 320.0, 240.0, -0.45, 0.02, 0.0, 0.0]),
}


def lens_case(name: str, width: int = 160, height: int = 120) -> LensModel:
    """The case ``name`` scaled to ``width`` x ``height`` (the principal point keeps its place in the image)."""
    model, params = CASES[name]
    scale = width / 640.0
    n = 3 if params and model.startswith("SIMPLE") else 4
    scaled = [p * scale for p in params[:n]] + list(params[n:])
    if height != width * 480 // 640:   # another aspect: the principal point keeps its relative place
        scaled[n - 1] = params[n - 1] / 480.0 * height
    return LensModel(model, width, height, tuple(scaled))


def all_lenses(width: int = 160, height: int = 120) -> list[tuple[str, LensModel]]:
    return [(name, lens_case(name, width, height)) for name in CASES]
