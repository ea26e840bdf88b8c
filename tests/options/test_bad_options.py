"""Bad options: each is refused up front with one line naming the option (pure Python part)."""

from __future__ import annotations

import pytest

from depth_views.errors import DepthViewsError
from depth_views.options import RenderOptions

BAD_OPTIONS = [  # (RenderOptions fields, words the error must contain)
    ({"resolution": (0, 32)}, "--resolution 0 32"),
    ({"resolution": (-5, 32)}, "--resolution -5 32"),
    ({"resolution": (32, 0)}, "--resolution 32 0"),
    ({"resolution": (2, 2)}, "at least 4 pixels"),       # Blender would render 4 x 4 and K would lie
    ({"resolution": (65536, 65536)}, "at most"),         # 4 Gpixel: refused before rendering, not after
    ({"resolution": (70000, 32)}, "--resolution 70000 32"),
    ({"views": 0}, "--views 0"),
    ({"views": -3}, "--views -3"),
    ({"views": 10**8}, "at most"),                       # would exhaust memory while planning
    ({"lens": 0.0}, "--lens 0"),
    ({"lens": -1.0}, "--lens -1"),
    ({"lens": 0.5}, "below Blender's 1 mm"),             # Blender would clamp it and K would lie
    ({"sensor": 0.0}, "--sensor 0"),
    ({"sensor": 0.5}, "--sensor 0.5"),
    ({"fov": 0.0}, "--fov 0"),
    ({"fov": 180.0}, "--fov 180"),
    ({"fov": 175.0}, "--fov 175"),                       # needs a 0.79 mm lens
    ({"radius": 0.0}, "--radius 0"),
    ({"radius": -2.0}, "--radius -2"),
    ({"radius": float("nan")}, "--radius nan"),
    ({"radius": float("inf")}, "--radius inf"),
    ({"clip_start": 2.0, "clip_end": 1.0}, "--clip-end 1 must be greater than --clip-start 2"),
    ({"clip_start": 1.0, "clip_end": 1.0}, "--clip-end"),
    ({"clip_start": 0.0}, "--clip-start 0"),
    ({"clip_start": -1.0}, "--clip-start -1"),
    ({"clip_start": 1e-8}, "nearer than 1e-06"),         # Blender would clamp it silently
    ({"clip_end": -5.0}, "--clip-end -5"),
    ({"center": (float("nan"), 0.0, 0.0)}, "--center"),
    ({"elevation": (30.0, 10.0)}, "elevation"),
    ({"sampling": "grid"}, "--grid"),
    ({"exr_compression": "dwaa"}, "--exr-compression"),
]


@pytest.mark.parametrize("fields, words", BAD_OPTIONS, ids=[str(f) for f, _ in BAD_OPTIONS])
def test_bad_option_is_refused_naming_it(fields, words):
    with pytest.raises(DepthViewsError) as caught:
        RenderOptions(**fields).validate()
    message = str(caught.value)
    assert words in message and "\n" not in message, message


@pytest.mark.parametrize("fields", [{"resolution": (4, 4)}, {"lens": 1.0}, {"fov": 170.0},
                                    {"fov": 120.0, "sensor": 10.0}, {"clip_start": 1e-6}, {"views": 100_000},
                                    {"resolution": (16384, 16384)}])
def test_edge_values_that_blender_renders_exactly_are_accepted(fields):
    RenderOptions(**fields).validate()
