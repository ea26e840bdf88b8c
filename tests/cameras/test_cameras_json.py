"""Our cameras.json (cameras/cameras_json.py): written, loaded back for a rendered folder, and read as a camera
file to render again; one reader for all of them, refusing a document of the wrong shape in one line.
No Blender."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from depth_views.cameras.atomic_write import write_json_atomic
from depth_views.cameras.camera_set import read_camera_file, views_from_camera_set
from depth_views.cameras.cameras_json import cameras_document, load_cameras, parse_cameras_document, read_cameras_document
from depth_views.cameras.intrinsics import Intrinsics
from depth_views.cameras.models import CameraModel
from depth_views.cameras.sphere import sample_views, vary_views
from depth_views.errors import DepthViewsError

W, H = 24, 16


def test_camera_files_round_trip(tmp_path):
    intrinsics = Intrinsics(64, 48)
    views = sample_views(sampling="fibonacci", n_views=3, center=[0, 0, 0], radius=2.0)
    files = [{"depth": f"depth/{v.index:04d}.exr"} for v in views]
    write_json_atomic(str(tmp_path / "cameras.json"),
                      cameras_document(intrinsics, views, files, units="metres", extra={"x": 1}))
    cameras = load_cameras(tmp_path)
    assert cameras["units"] == "metres" and cameras["depth_kind"] == "planar" and cameras["x"] == 1
    assert np.allclose(cameras["views"][2]["world_to_camera"], views[2].world_to_camera)
    assert [p.name for p in tmp_path.iterdir()] == ["cameras.json"]  # no temporary file left
    with pytest.raises(DepthViewsError, match="no such file"):
        load_cameras(tmp_path / "missing")


def test_a_rendered_cameras_json_renders_again_as_the_same_views(tmp_path):
    """Views with their own K (a --fov range) written, then read as --cameras: same poses, same K."""
    views = sample_views(sampling="fibonacci", n_views=4, center=[0.5, 0, 0], radius=3.0)
    views = vary_views(views, [0.5, 0, 0], seed=2, fov_range=(30.0, 60.0), width=64, height=48)
    files = [{"depth": f"depth/{v.index:04d}.exr"} for v in views]
    path = tmp_path / "cameras.json"
    write_json_atomic(str(path), cameras_document(Intrinsics(64, 48), views, files, units="m"))
    camera_set = read_camera_file(path)
    assert camera_set.kind == "depth_views" and [f.name for f in camera_set.frames] == [f["depth"] for f in files]
    first, again = views_from_camera_set(camera_set, center=[0.5, 0, 0])
    for view, read in zip(views, again):
        assert np.allclose(read.world_to_camera, view.world_to_camera, atol=1e-12)
        assert np.allclose(read.intrinsics.K, view.intrinsics.K, atol=1e-9)
        assert read.radius == pytest.approx(view.radius) and read.azimuth_deg == pytest.approx(view.azimuth_deg)
    assert first.K[0, 0] == pytest.approx(views[0].intrinsics.K[0, 0])


def _document(**changes):
    views = sample_views(sampling="fibonacci", n_views=2, center=[0, 0, 0], radius=2.0)
    document = json.loads(json.dumps(cameras_document(Intrinsics(W, H), views, [{"depth": "d0.exr"}, {"depth": "d1.exr"}],
                                                      units="m")))
    for key, value in changes.items():
        if key.startswith("view1_"):
            document["views"][1][key[6:]] = value
        else:
            document[key] = value
    return document


@pytest.mark.parametrize("changes, message", [
    ({"views": [1, 2]}, "view 0: is not an object"),
    ({"views": "all"}, "no 'views' list"),
    ({"view1_world_to_camera": [[1, 0, 0, 0], [0, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1]]}, "view 1: world_to_camera is not a "
                                                                                        "matrix of numbers"),
    ({"view1_world_to_camera": [[0.0] * 4] * 4}, "frame 1 (d1.exr): the pose's last row is [0.0, 0.0, 0.0, 0.0]"),
    ({"view1_world_to_camera": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]]},
     "frame 1 (d1.exr): the pose's 3x3 part is not a rotation"),
    ({"K": [["a", 0, 1], [0, 1, 1], [0, 0, 1]]}, "K is not a matrix of numbers"),
    ({"K": {"fx": 3}}, "K is not a matrix of numbers"),
    ({"view1_K": [[1, 0], [0, 1]]}, "view 1: K has shape (2, 2), not 3x3"),
    ({"width": "wide"}, "frame 0 (d0.exr): width is 'wide', not a number"),
    ({"object_to_world": [[math.inf] * 4] * 4}, "object_to_world has NaN or infinite entries"),
])
def test_a_cameras_json_of_the_wrong_shape_is_one_line(tmp_path, changes, message):
    path = tmp_path / "cameras.json"
    path.write_text(json.dumps(_document(**changes)))
    with pytest.raises(DepthViewsError) as error:
        views_from_camera_set(read_camera_file(path))
    text = str(error.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


def test_the_batch_index_reads_the_document_through_the_same_reader(tmp_path):
    path = tmp_path / "cameras.json"
    path.write_text(json.dumps({"views": [{}] * 2, "object_to_world": None, "width": 8, "height": 8}))
    assert len(read_cameras_document(str(path))["views"]) == 2
    path.write_text("[1, 2]")
    with pytest.raises(DepthViewsError, match=r"cameras.json: is not a JSON object$"):
        read_cameras_document(str(path))
    with pytest.raises(DepthViewsError, match=r"^shard.tar/m.cameras.json: view 0: is not an object$"):
        parse_cameras_document(b'{"views": [3]}', "shard.tar/m.cameras.json")


def test_cameras_json_states_model_and_per_view_overrides():
    model = CameraModel.fisheye(W, H, 150.0)
    document = cameras_document(Intrinsics(W, H), [], [], units="m", camera_model=model)
    assert document["camera_model"] == "OPENCV_FISHEYE" and document["depth_kind"] == "ray_length"
    assert "lens_mm" not in document
    again = CameraModel.from_document(document)
    assert np.allclose(again.K, model.K) and again.extra["fisheye_fov_deg"] == pytest.approx(150.0)
    # A document without camera_model is PINHOLE; a view's own K / size override the top level.
    plain = cameras_document(Intrinsics(W, H), [], [], units="m")
    del plain["camera_model"]
    assert CameraModel.from_document(plain).name == "PINHOLE"
    view = {"index": 3, "camera_model": "EQUIRECTANGULAR", "K": None, "width": 8, "height": 4}
    per_view = CameraModel.from_document(plain, view)
    assert (per_view.name, per_view.width, per_view.height) == ("EQUIRECTANGULAR", 8, 4)
    assert CameraModel.from_document(document, {"index": 0, "width": 48, "height": 32,
                                                 "K": CameraModel.fisheye(48, 32, 150.0).K.tolist()}).width == 48
