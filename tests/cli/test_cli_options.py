"""The CLI's reading of options into RenderOptions (no bpy)."""

from __future__ import annotations

import pytest

from depth_views.outputs.writer import planned_view_files


def test_cli_reads_passes_and_formats_comma_or_space_separated():
    from depth_views.cli import build_parser, options_from_args

    args = build_parser().parse_args(["render", "x.obj", "--out", "o", "--passes", "normal,distance", "mask",
                                      "--formats", "exr,png16", "contact-sheet", "--png16-scale", "1e-3",
                                      "--preview-range", "fixed", "--preview-near", "1", "--preview-far", "3",
                                      "--rgb-samples", "8", "--keep-transparency"])
    options = options_from_args(args)
    assert options.passes == ("normal", "distance", "mask")
    assert options.formats == ("exr", "png16", "contact_sheet")
    assert options.wanted_passes() == ("depth", "distance", "normal", "mask")
    assert (options.png16_scale, options.preview_near, options.rgb_samples, options.keep_transparency) == (1e-3, 1.0, 8, True)
    defaults = options_from_args(build_parser().parse_args(["render", "x.obj", "--out", "o"]))
    assert (defaults.passes, defaults.formats) == (("depth",), ("exr",))
    assert planned_view_files(3, 24, defaults) == {"depth": "depth/0003.exr"}
    with pytest.raises(SystemExit):
        build_parser().parse_args(["render", "x.obj", "--out", "o", "--passes", "depth,albedo"])
