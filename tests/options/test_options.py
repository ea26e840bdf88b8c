"""Render options: validation names the option, the derived camera numbers, clip ranges, normalisation
and output folder names (pure Python, no bpy)."""

from __future__ import annotations

import numpy as np
import pytest

from depth_views.errors import DepthViewsError
from depth_views.options import RenderOptions, clip_range, normalization_matrix, output_folder_names


def test_output_folder_names_are_safe_and_distinct():
    names = output_folder_names(["a/chair.obj", "b/chair.ply", "../../x.obj", "c/Chair.obj",
                                 "d/..obj", "e/stühl.glb", "f/ .obj"])
    assert names == ["chair", "chair-2", "x", "Chair-3", "obj", "stühl", "input"]


def test_clip_range_and_normalization():
    near, far = clip_range(10.0, 2.0)
    assert near == 4.0 and far == 24.0
    near, far = clip_range(1.0, 2.0)  # camera within the extent: tiny near plane, nothing clipped
    assert 0 < near < 1e-3 and far == 6.0
    matrix = normalization_matrix([1.0, 2.0, 3.0], 4.0)
    assert np.allclose(matrix @ [1, 2, 3, 1], [0, 0, 0, 1])
    assert np.allclose(matrix @ [5, 2, 3, 1], [0.5, 0, 0, 1])


def test_render_options_validate_names_the_option():
    for options, words in [(RenderOptions(clip_start=2, clip_end=1), "--clip-end"),
                           (RenderOptions(radius=0), "--radius"),
                           (RenderOptions(views=0), "--views"),
                           (RenderOptions(resolution=(0, 10)), "width"),
                           (RenderOptions(exr_compression="dwaa"), "--exr-compression"),
                           (RenderOptions(sampling="grid", grid=(2, 2), views=5), "4 views")]:
        with pytest.raises(DepthViewsError, match=words):
            options.validate()
    assert RenderOptions(fov=90.0, resolution=(100, 50)).lens_intrinsics().K[0, 0] == pytest.approx(50.0)


def test_options_validate_passes_and_formats():
    RenderOptions(passes=("depth", "distance", "normal", "rgb", "mask"),
                  formats=("exr", "png16", "preview", "npz", "contact_sheet", "ply", "fused_ply")).validate()
    cases = [({"passes": ("depth", "albedo")}, "albedo"), ({"formats": ("jpg",)}, "jpg"),
             ({"passes": ("normal",), "formats": ("png16",)}, "normal"),
             ({"passes": ("mask",), "engine": "workbench"}, "cycles"),
             ({"png16_scale": -1.0}, "png16-scale"), ({"preview_range": "fixed"}, "preview-near"),
             ({"preview_colormap": "jet"}, "jet"), ({"rgb_samples": 0}, "rgb-samples"),
             ({"formats": ()}, "at least one")]
    for settings, message in cases:
        with pytest.raises(DepthViewsError, match=message):
            RenderOptions(**settings).validate()
