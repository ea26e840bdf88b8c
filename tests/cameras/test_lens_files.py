"""Camera files with lens distortion (no Blender): COLMAP text and binary models of every lens model, nerfstudio
transforms.json (OPENCV k1..k4 p1 p2, OPENCV_FISHEYE k1..k4, global or per frame, as nerfstudio's own
dataparser reads them), our cameras.json (``lens_params`` at the top level and per view); fisheyes off centre
with fx != fy; and the exports (cameras.json, transforms.json, COLMAP) reading back as the same lenses, with
transforms.json giving our rays through nerfstudio's ray generator (tests/nerfstudio_rays.py)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from camera_files import TARGET, W, H, opengl_camera_to_world, world_to_camera_seeing, write_colmap_lenses
from lens_cases import CASES, lens_case
from nerfstudio_rays import nerfstudio_distortion, nerfstudio_rays

from depth_views.cameras.cameras_json import cameras_document
from depth_views.cameras.camera_set import camera_set_intrinsics, read_camera_file, views_from_camera_set
from depth_views.cameras.colmap import colmap_text_model
from depth_views.cameras.lens import LensModel
from depth_views.cameras.models import CameraModel
from depth_views.cameras.nerfstudio import transforms_document
from depth_views.errors import DepthViewsError
from depth_views.options import RenderOptions
from depth_views.resolved import resolve

POSITIONS = [(6.0, -3.0, 4.0), (-4.5, 5.0, 1.0), (2.0, 6.5, -2.5), (5.0, 4.0, 3.0)]
PINHOLE_FAMILY = [name for name in CASES if lens_case(name).family == "pinhole" and lens_case(name).spec.colmap_id is not None]
FISHEYE_FAMILY = [name for name in CASES if lens_case(name).family == "fisheye"]


def pose(i, K=((50.0, 0, 31.5), (0, 50.0, 23.5))):
    return world_to_camera_seeing(POSITIONS[i % len(POSITIONS)], TARGET, K, W, H, roll_deg=7.0 * i)


def views_of(path, **kwargs):
    return views_from_camera_set(read_camera_file(path), **kwargs)[1]


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
@pytest.mark.parametrize("family", [PINHOLE_FAMILY, FISHEYE_FAMILY], ids=["pinhole-family", "fisheye-family"])
def test_colmap_models_with_distortion_read_as_their_lens(tmp_path, binary, family):
    lenses = [lens_case(name, W, H) for name in family] + [lens_case(family[0], W, H)]   # the first camera again
    cameras = [(lens.name, W, H, lens.params, pose(i)) for i, lens in enumerate(lenses)]
    folder = write_colmap_lenses(tmp_path / "model", cameras, binary=binary)
    camera_set = read_camera_file(folder)
    intrinsics, model = camera_set_intrinsics(camera_set)
    assert model.lens.key == lenses[0].key and (intrinsics.width, intrinsics.height) == (W, H)
    views = views_from_camera_set(camera_set)[1]
    assert [view.lens.key for view in views] == [lens.key for lens in lenses]
    assert views[-1].lens is views[0].lens                            # one camera, one LensModel (cached arrays)
    for view, (_, _, _, _, w2c) in zip(views, cameras):
        assert np.allclose(view.world_to_camera, w2c, atol=1e-9) and view.intrinsics is None


def test_one_render_has_one_depth_kind(tmp_path):
    cameras = [(lens.name, W, H, lens.params, pose(i))
               for i, lens in enumerate([lens_case("OPENCV", W, H), lens_case("OPENCV_FISHEYE", W, H)])]
    folder = write_colmap_lenses(tmp_path / "model", cameras)
    with pytest.raises(DepthViewsError, match=r"images.txt: frame 1 \(img_002.jpg\): camera model OPENCV_FISHEYE mixed "
                                              r"with pinhole frames \(frame 0: OPENCV\); one render has one depth kind"):
        views_of(folder)


def test_a_distortion_free_file_keeps_blenders_own_cameras(tmp_path):
    """Zero distortion: a pinhole renders with Blender's perspective camera, a centred fisheye with fx = W/fov,
    fy = H/fov with Blender's fisheye (both also on Blender 4.2); an off-centre fisheye or fx != fy needs the
    lens camera (Blender could not shift it)."""
    pinhole = [("OPENCV", W, H, (50.0, 52.0, 30.0, 25.0, 0.0, 0.0, 0.0, 0.0), pose(0))]
    views = views_of(write_colmap_lenses(tmp_path / "a", pinhole))
    assert views[0].lens is None and np.allclose(views[0].intrinsics.K, [[50, 0, 29.5], [0, 52, 24.5], [0, 0, 1]])
    fov = math.pi
    centred = [("OPENCV_FISHEYE", W, H, (W / fov, H / fov, W / 2, H / 2, 0, 0, 0, 0), pose(0))]
    intrinsics, model = camera_set_intrinsics(read_camera_file(write_colmap_lenses(tmp_path / "b", centred)))
    assert model.lens is None and model.name == "OPENCV_FISHEYE" and model.extra["fisheye_fov_deg"] == 180.0
    for name, params in (("off-centre", (W / fov, H / fov, W / 2 + 3.2, H / 2 - 1.1, 0, 0, 0, 0)),
                         ("fx != fy", (20.0, 17.0, W / 2, H / 2, 0, 0, 0, 0))):
        folder = write_colmap_lenses(tmp_path / name.replace(" ", ""), [("OPENCV_FISHEYE", W, H, params, pose(0))])
        (view,) = views_of(folder)
        assert view.lens.name == "OPENCV_FISHEYE" and view.lens.params == params, name


# -- nerfstudio ---------------------------------------------------------------------------------------

def transforms(tmp_path, top: dict, frames: list[dict]) -> str:
    document = {"camera_model": "OPENCV", "fl_x": 50.0, "fl_y": 52.0, "cx": 32.3, "cy": 24.1, "w": W, "h": H, **top,
                "frames": [{"file_path": f"images/{i}.png", "transform_matrix": opengl_camera_to_world(pose(i)).tolist(),
                            **frame} for i, frame in enumerate(frames)]}
    path = tmp_path / "transforms.json"
    path.write_text(json.dumps(document))
    return str(path)


@pytest.mark.parametrize("top, frames, expected", [
    ({"k1": -0.1, "k2": 0.02, "p1": 0.001, "p2": -0.002}, [{}, {}],
     [("OPENCV", (-0.1, 0.02, 0.001, -0.002))] * 2),
    ({}, [{"k1": -0.1}, {"k1": -0.05, "k2": 0.01, "k3": 0.001}],
     [("OPENCV", (-0.1, 0.0, 0.0, 0.0)), ("FULL_OPENCV", (-0.05, 0.01, 0.0, 0.0, 0.001, 0.0, 0.0, 0.0))]),
    # nerfstudio's dataparser: a top-level k1 makes the distortion global; the frames' own are not read
    ({"k1": -0.1}, [{"k2": 0.3}, {}], [("OPENCV", (-0.1, 0.0, 0.0, 0.0))] * 2),
    # ... but a top-level k4 alone does not: the frames' own are read
    ({"k4": 0.001}, [{"k1": -0.1}, {"k1": -0.1, "k4": 0.002}],
     [("OPENCV", (-0.1, 0.0, 0.0, 0.0)), ("NERFSTUDIO_OPENCV", (-0.1, 0.0, 0.0, 0.002, 0.0, 0.0))]),
    ({"distortion_params": [-0.1, 0.02, 0.0, 0.001, 0.0, 0.0]}, [{}],
     [("NERFSTUDIO_OPENCV", (-0.1, 0.02, 0.0, 0.001, 0.0, 0.0))]),
    ({"camera_model": "OPENCV_FISHEYE", "fl_x": 22.0, "fl_y": 21.0, "k1": 0.02, "k2": -0.004, "k3": 0.001, "k4": -2e-4},
     [{}], [("OPENCV_FISHEYE", (0.02, -0.004, 0.001, -2e-4))]),
    ({"camera_model": "OPENCV_FISHEYE", "fl_x": 22.0, "fl_y": 21.0, "k1": 0.02, "p1": 0.001}, [{}],
     [("THIN_PRISM_FISHEYE", (0.02, 0.0, 0.001, 0.0, 0.0, 0.0, 0.0, 0.0))]),
])
def test_nerfstudio_distortion_is_read_as_nerfstudio_reads_it(tmp_path, top, frames, expected):
    path = transforms(tmp_path, top, frames)
    document = json.loads(open(path).read())
    views = views_of(path)
    assert [(view.lens.name, view.lens.extra) for view in views] == expected
    for view, frame in zip(views, document["frames"]):
        # our rays are nerfstudio's for every pixel (its Newton run to convergence)
        camera = {**document, **frame}
        theirs = nerfstudio_rays(document["camera_model"], W, H, camera["fl_x"], camera["fl_y"], camera["cx"],
                                 camera["cy"], nerfstudio_distortion(document, frame), iterations=60, dtype=np.float64)
        ours, valid = view.lens.unproject(*view.lens.pixel_grid())
        assert valid.all() and np.abs(ours - theirs).max() < 1e-10


def test_cameras_json_lens_params_top_level_and_per_view(tmp_path):
    first, other = lens_case("OPENCV", W, H), lens_case("FULL_OPENCV", W, H)
    views = [view for view in views_of(transforms(tmp_path, {}, [{"k1": 0.01}] * 3))]
    views = [dataclass_replace(view, lens=lens) for view, lens in zip(views, [first, other, first])]
    document = cameras_document(_size(), views, [{"depth": f"depth/{i:04d}.exr"} for i in range(3)], units="m",
                                camera_model=CameraModel.from_lens(first))
    assert document["camera_model"] == "OPENCV" and document["lens_params"] == list(first.params)
    assert "lens_params" not in document["views"][0] and document["views"][1]["lens_params"] == list(other.params)
    assert document["views"][1]["K"] == other.K.tolist()
    path = tmp_path / "cameras.json"
    path.write_text(json.dumps(document))
    again = views_of(path)
    assert [view.lens.key for view in again] == [first.key, other.key, first.key]
    assert CameraModel.from_document(document, document["views"][1]).lens.key == other.key


def dataclass_replace(view, **changes):
    import dataclasses

    return dataclasses.replace(view, **changes)


def _size():
    from depth_views.cameras.intrinsics import Intrinsics

    return Intrinsics(W, H)


@pytest.mark.parametrize("names", [["OPENCV", "RADIAL", "OPENCV"], ["OPENCV_FISHEYE", "RADIAL_FISHEYE"],
                                   ["NERFSTUDIO_OPENCV", "OPENCV"], ["FOV", "DIVISION"],
                                   ["THIN_PRISM_FISHEYE", "RAD_TAN_THIN_PRISM_FISHEYE"]])
def test_every_export_reads_back_as_the_same_lenses(tmp_path, names):
    """cameras.json always; transforms.json where nerfstudio has the lens (its ray generator then gives our
    rays); a COLMAP model where COLMAP has it."""
    lenses = [lens_case(name, W, H) for name in names]
    base = views_of(transforms(tmp_path, {}, [{"k1": 0.01}] * len(names)))
    views = [dataclass_replace(view, intrinsics=None, lens=lens) for view, lens in zip(base, lenses)]
    files = [{"depth": f"depth/{i:04d}.exr"} for i in range(len(views))]
    model = CameraModel.from_lens(lenses[0])
    exports = {"cameras.json": cameras_document(_size(), views, files, units="m", camera_model=model)}
    ns = transforms_document(_size(), views, files, camera_model=model)
    describable = all(lens.to_nerfstudio() is not None for lens in lenses)
    assert (ns is not None) == describable
    if ns is not None:
        exports["transforms.json"] = ns
    for name, document in exports.items():
        folder = tmp_path / name.split(".")[0]
        folder.mkdir()
        (folder / name).write_text(json.dumps(document))
        again = views_of(folder / name)
        for view, read in zip(views, again):
            assert read.lens.name in (view.lens.name, "FULL_OPENCV", "OPENCV", "OPENCV_FISHEYE", "THIN_PRISM_FISHEYE")
            ours, valid = view.lens.unproject(*view.lens.pixel_grid())
            theirs, valid_again = read.lens.unproject(*read.lens.pixel_grid())
            assert np.array_equal(valid, valid_again) and np.abs(ours - theirs)[valid].max() < 1e-12, name
            assert np.allclose(read.world_to_camera, view.world_to_camera, atol=1e-12)
    if ns is not None:
        for view, frame in zip(views, ns["frames"]):
            camera = {**ns, **frame}
            theirs = nerfstudio_rays(ns["camera_model"], W, H, camera["fl_x"], camera["fl_y"], camera["cx"],
                                     camera["cy"], nerfstudio_distortion(ns, frame), iterations=60, dtype=np.float64)
            ours, valid = view.lens.unproject(*view.lens.pixel_grid())
            assert np.abs(ours - theirs)[valid].max() < 1e-9
    if all(lens.spec.colmap_id is not None for lens in lenses):
        text = colmap_text_model(_size(), views, files, lens=model.lens)
        folder = tmp_path / "colmap"
        folder.mkdir()
        for name, content in text.items():
            (folder / name).write_text(content)
        assert [view.lens.key for view in views_of(folder)] == [lens.key for lens in lenses]
    else:
        with pytest.raises(DepthViewsError, match="COLMAP has no camera model for NERFSTUDIO_OPENCV"):
            colmap_text_model(_size(), views, files, lens=model.lens)


# -- the lens of sampled views: --lens-model / --lens-params -------------------------------------------

def test_lens_options_give_sampled_views_and_pose_arrays_their_lens(tmp_path):
    lens = lens_case("OPENCV", W, H)
    options = RenderOptions(resolution=(W, H), lens_model="OPENCV", lens_params=lens.params)
    setup = resolve(options)
    assert setup.uses_lens_camera and setup.camera().lens.key == lens.key
    poses = np.stack([opengl_camera_to_world(pose(i)) for i in range(2)])
    np.save(tmp_path / "poses.npy", poses)
    from dataclasses import replace

    setup = resolve(replace(options, cameras_file=str(tmp_path / "poses.npy")))
    assert setup.uses_lens_camera and all(view.lens.key == lens.key for view in setup.file_views)
    with pytest.raises(DepthViewsError, match="transforms.json: the file has its own cameras; --lens-model"):
        resolve(replace(options, cameras_file=transforms(tmp_path, {"k1": 0.1}, [{}])))
    plain = resolve(RenderOptions(resolution=(W, H), lens_model="OPENCV",
                                  lens_params=(*lens.params[:4], 0.0, 0.0, 0.0, 0.0)))
    assert not plain.uses_lens_camera and plain.camera().is_pinhole   # zero distortion: Blender's own camera
    assert np.allclose(plain.intrinsics.K, lens.K)


@pytest.mark.parametrize("settings, message", [
    ({"lens_model": "OPENCV"}, "--lens-model and --lens-params go together"),
    ({"lens_model": "OPENCV", "lens_params": (50.0, 50.0, 32.0)}, "--lens-model OPENCV: camera model OPENCV needs 8 "
                                                                  "parameters (fx fy cx cy k1 k2 p1 p2), got 3"),
    ({"lens_model": "KANNALA", "lens_params": (50.0,)}, "--lens-model KANNALA: unknown camera model 'KANNALA'"),
    ({"lens_model": "OPENCV", "lens_params": (50.0, 50.0, 32.0, 24.0, float("nan"), 0, 0, 0)},
     "--lens-model OPENCV: camera model OPENCV: k1=nan; parameters must be finite"),
    ({"lens_model": "OPENCV", "lens_params": (50.0, 50.0, 32.0, 24.0, -1e6, 0, 0, 0)},
     "--lens-model OPENCV: camera model OPENCV: the distortion has no exact inverse within one pixel"),
    ({"lens_model": "RADIAL", "lens_params": (50.0, 32.0, 24.0, -0.1, 0.0), "camera_model": "fisheye"},
     "--lens-model RADIAL: cannot go with --camera-model fisheye"),
    ({"lens_model": "RADIAL", "lens_params": (50.0, 32.0, 24.0, -0.1, 0.0), "fov": 40.0},
     "--lens-model RADIAL: cannot go with --fov"),
    ({"lens_model": "RADIAL", "lens_params": (50.0, 32.0, 24.0, -0.1, 0.0), "engine": "workbench"},
     "--lens-model RADIAL renders with Cycles only (Cycles' Custom camera); --engine workbench cannot"),
])
def test_bad_lens_options_name_the_option(settings, message):
    with pytest.raises(DepthViewsError) as error:
        resolve(RenderOptions(resolution=(W, H), **settings))
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_lens_pickles_without_its_per_pixel_arrays():
    import pickle

    lens = lens_case("OPENCV", 320, 240)
    lens.depth_rays()
    again = pickle.loads(pickle.dumps(lens))
    assert again.key == lens.key and len(pickle.dumps(lens)) < 1000
    assert isinstance(again, LensModel)
