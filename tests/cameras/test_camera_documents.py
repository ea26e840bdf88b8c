"""cameras.json and transforms.json written and read back (pure Python, no bpy)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from depth_views.cameras import Intrinsics, sample_views
from depth_views.cameras.files import cameras_document, load_cameras, transforms_document, write_json_atomic
from depth_views.errors import DepthViewsError


def test_camera_files_round_trip(tmp_path):
    intrinsics = Intrinsics(64, 48)
    views = sample_views(sampling="fibonacci", n_views=3, center=[0, 0, 0], radius=2.0)
    files = [{"depth": f"depth/{v.index:04d}.exr"} for v in views]
    write_json_atomic(str(tmp_path / "cameras.json"),
                      cameras_document(intrinsics, views, files, units="metres", extra={"x": 1}))
    cameras = load_cameras(tmp_path)
    assert cameras["units"] == "metres" and cameras["depth_kind"] == "planar" and cameras["x"] == 1
    assert np.allclose(cameras["views"][2]["world_to_camera"], views[2].world_to_camera)
    transforms = transforms_document(intrinsics, views, files)
    assert transforms["cx"] == 32.0 and transforms["cy"] == 24.0
    assert json.loads(json.dumps(transforms))["frames"][1]["depth_file_path"] == "depth/0001.exr"
    assert [p.name for p in tmp_path.iterdir()] == ["cameras.json"]  # no temporary file left
    with pytest.raises(DepthViewsError, match="no such file"):
        load_cameras(tmp_path / "missing")
