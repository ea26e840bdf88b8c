"""The add-on: registration, every panel setting reaching the render, operator == API, scene
restoration after a run and after a cancel, preview cameras, F12 depth output."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from checks import assert_depth_matches_mesh, load_cameras_json  # noqa: E402
from meshes import asymmetric_mesh, write_blend  # noqa: E402

import depth_views  # noqa: E402
from depth_views import compositor  # noqa: E402
from depth_views.cameras import sample_views  # noqa: E402
from depth_views.cli import main  # noqa: E402
from depth_views.exr_io import read_depth, read_header  # noqa: E402
from depth_views.render.job import render_scene, scene_input  # noqa: E402
from depth_views.operators.scene import (PREVIEW_COLLECTION_NAME, scene_job,  # noqa: E402
                                       target_objects)


@pytest.fixture
def addon():
    depth_views.register()
    yield
    depth_views.unregister()


@pytest.fixture
def box_scene(tmp_path, addon):
    """The asymmetric box as the only object of an opened .blend; small, fast settings."""
    blend = write_blend(asymmetric_mesh(), tmp_path / "scene.blend")
    bpy.ops.wm.open_mainfile(filepath=blend, load_ui=False)
    scene = bpy.context.scene
    settings = scene.depth_views
    settings.target = "SCENE"
    settings.views, settings.resolution_x, settings.resolution_y = 3, 24, 20
    settings.output_dir = str(tmp_path / "out")
    return scene


def _add_cube(name, location, size=0.5):
    mesh = bpy.data.meshes.new(name)
    h = size / 2
    vertices = [(x, y, z) for x in (-h, h) for y in (-h, h) for z in (-h, h)]
    faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    mesh.from_pydata(vertices, [], faces)
    obj = bpy.data.objects.new(name, mesh)
    obj.location = location
    bpy.context.scene.collection.objects.link(obj)
    bpy.context.view_layer.update()
    return obj


def _positions(output_dir):
    return np.array([view["position"] for view in load_cameras_json(output_dir)["views"]])


# -- registration --------------------------------------------------------------------------------

def test_register_twice_and_unregister_twice_leaves_nothing_behind():
    depth_views.register()
    depth_views.register()
    assert hasattr(bpy.types.Scene, "depth_views")
    assert hasattr(bpy.ops.depth_views, "render") and hasattr(bpy.ops.depth_views, "preview_cameras")
    depth_views.unregister()
    depth_views.unregister()
    assert not hasattr(bpy.types.Scene, "depth_views")
    from depth_views.addon import CLASSES
    assert not any(cls.is_registered for cls in CLASSES)
    assert not any(name.startswith("DEPTHVIEWS_") for name in dir(bpy.types))


def test_every_setting_has_a_tooltip(addon):
    from depth_views.panels.properties import DepthViewsSettings
    for name, prop in DepthViewsSettings.bl_rna.properties.items():
        if name in ("rna_type", "name"):
            continue
        assert prop.description.strip(), f"{name} has no tooltip"


# -- operator == core ----------------------------------------------------------------------------

def test_render_operator_equals_the_cli_on_the_same_scene(tmp_path, box_scene):
    settings = box_scene.depth_views
    assert bpy.ops.depth_views.render() == {"FINISHED"}
    assert settings.last_output == str(tmp_path / "out") and settings.last_views == 3
    assert main(["render", str(tmp_path / "scene.blend"), "--out", str(tmp_path / "cli"), "--views", "3",
                 "--resolution", "24", "20", "--quiet"]) == 0
    for index in range(3):
        name = f"depth/{index:04d}.exr"
        assert np.array_equal(read_depth(tmp_path / "out" / name),
                              read_depth(tmp_path / "cli" / "scene" / name), equal_nan=True)


def test_render_operator_equals_the_python_api_with_the_same_settings(tmp_path, box_scene):
    settings = box_scene.depth_views
    settings.sampling, settings.seed, settings.views = "random", 7, 4
    settings.lens_unit, settings.fov = "FOV", math.radians(50.0)
    assert bpy.ops.depth_views.render() == {"FINISHED"}
    objects = target_objects(box_scene, settings, [])
    render_scene(scene_input(box_scene, objects), str(tmp_path / "api"), settings.render_options(box_scene))
    operator_cameras, api_cameras = load_cameras_json(tmp_path / "out"), load_cameras_json(tmp_path / "api")
    assert operator_cameras["K"] == api_cameras["K"]
    assert [v["camera_to_world"] for v in operator_cameras["views"]] == [v["camera_to_world"] for v in api_cameras["views"]]
    for index in range(4):
        name = f"depth/{index:04d}.exr"
        assert np.array_equal(read_depth(tmp_path / "out" / name), read_depth(tmp_path / "api" / name))
    assert_depth_matches_mesh(tmp_path / "out", asymmetric_mesh().vertices, asymmetric_mesh().faces)


# -- every panel setting reaches the render --------------------------------------------------------

def _render(scene):
    assert bpy.ops.depth_views.render() == {"FINISHED"}
    return load_cameras_json(bpy.path.abspath(scene.depth_views.output_dir))


def test_sampling_views_seed_and_grid_reach_the_cameras(box_scene):
    settings = box_scene.depth_views
    settings.sampling, settings.seed, settings.views = "random", 11, 5
    cameras = _render(box_scene)
    expected = sample_views(sampling="random", n_views=5, center=cameras["center"], radius=cameras["radius"], seed=11)
    assert np.allclose(_positions(settings.output_dir), [v.position for v in expected])
    settings.sampling, settings.grid_azimuth, settings.grid_elevation = "grid", 4, 2
    cameras = _render(box_scene)
    assert len(cameras["views"]) == 8 and cameras["sampling"] == "grid"
    assert len({round(v["azimuth_deg"], 6) for v in cameras["views"]}) == 4
    assert len({round(v["elevation_deg"], 6) for v in cameras["views"]}) == 2


def test_radius_centre_hemisphere_and_elevation_band_reach_the_cameras(box_scene):
    settings = box_scene.depth_views
    settings.views, settings.radius_auto, settings.radius = 6, False, 9.0
    settings.center = "CURSOR"
    box_scene.cursor.location = (0.5, 1.0, 2.0)
    cameras = _render(box_scene)
    assert np.allclose(np.linalg.norm(_positions(settings.output_dir) - [0.5, 1.0, 2.0], axis=1), 9.0)
    settings.center = "ORIGIN"
    settings.hemisphere = True
    cameras = _render(box_scene)
    assert np.allclose(np.linalg.norm(_positions(settings.output_dir), axis=1), 9.0)
    assert min(v["elevation_deg"] for v in cameras["views"]) >= -1e-9
    settings.hemisphere = False
    settings.use_elevation_band = True
    settings.elevation_min, settings.elevation_max = math.radians(10), math.radians(40)
    cameras = _render(box_scene)
    elevations = [v["elevation_deg"] for v in cameras["views"]]
    assert min(elevations) >= 10 - 1e-6 and max(elevations) <= 40 + 1e-6


def test_lens_resolution_clip_engine_and_codec_reach_the_render(box_scene):
    settings = box_scene.depth_views
    settings.resolution_x, settings.resolution_y, settings.lens = 30, 18, 35.0
    settings.clip_auto, settings.clip_start, settings.clip_end = False, 0.5, 50.0
    settings.exr_compression = "none"
    cameras = _render(box_scene)
    assert (cameras["width"], cameras["height"], cameras["lens_mm"]) == (30, 18, 35.0)
    assert np.isclose(cameras["K"][0][0], 35.0 / 36.0 * 30)
    assert (cameras["clip_start"], cameras["clip_end"]) == (0.5, 50.0)
    depth_file = os.path.join(settings.output_dir, cameras["views"][0]["files"]["depth"])
    assert read_depth(depth_file).shape == (18, 30)
    assert read_header(depth_file)["compression"] == "NO_COMPRESSION"
    settings.lens_unit, settings.fov = "FOV", math.radians(60.0)
    assert np.isclose(_render(box_scene)["fov_x_deg"], 60.0)
    settings.engine = "workbench"
    assert _render(box_scene)["engine"] == "workbench"


def test_clip_end_cuts_the_far_surface(box_scene):
    settings = box_scene.depth_views
    settings.clip_auto, settings.clip_start, settings.clip_end = False, 0.1, 1e-3 + 0.2
    bpy.ops.depth_views.render()
    depth = read_depth(os.path.join(settings.output_dir, "depth/0000.exr"), allow_constant=True)
    assert np.isinf(depth).all()  # every surface lies beyond the clip end


def test_target_selected_and_collection_render_only_those_objects(tmp_path, box_scene):
    settings = box_scene.depth_views
    box = bpy.data.objects["mesh"]
    other = _add_cube("far cube", (6.0, 6.0, 6.0))
    settings.views, settings.resolution_x, settings.resolution_y = 8, 48, 40  # some look towards the far cube
    settings.target = "SELECTED"
    with pytest.raises(RuntimeError, match="no selected mesh objects"):
        bpy.ops.depth_views.render()
    for obj in bpy.context.view_layer.objects:
        obj.select_set(obj is box)
    _render(box_scene)
    assert_depth_matches_mesh(settings.output_dir, asymmetric_mesh().vertices, asymmetric_mesh().faces)
    assert not other.hide_render  # the hidden object is visible again
    collection = bpy.data.collections.new("only cube")
    box_scene.collection.children.link(collection)
    collection.objects.link(other)
    settings.target, settings.collection = "COLLECTION", collection
    cameras = _render(box_scene)
    assert np.allclose(cameras["bounding_box"], [[5.75] * 3, [6.25] * 3])


def test_normalise_records_the_transform_and_puts_the_objects_back(box_scene):
    settings = box_scene.depth_views
    settings.normalize = True
    box = bpy.data.objects["mesh"]
    before = np.array(box.matrix_world)
    cameras = _render(box_scene)
    object_to_world = np.array(cameras["object_to_world"])
    assert np.allclose(np.array(box.matrix_world), before)
    mesh = asymmetric_mesh()
    assert_depth_matches_mesh(settings.output_dir, mesh.vertices, mesh.faces, object_to_world=object_to_world)
    normalised = mesh.vertices @ object_to_world[:3, :3].T + object_to_world[:3, 3]
    assert np.isclose(np.linalg.norm(normalised, axis=1).max(), 0.5, atol=1e-6)


# -- errors and restoration ------------------------------------------------------------------------

def test_render_operator_reports_errors_and_cancels(tmp_path, addon):
    bpy.context.scene.depth_views.output_dir = str(tmp_path / "out")
    bpy.context.scene.depth_views.target = "SCENE"
    with pytest.raises(RuntimeError, match="no visible mesh"):  # bpy turns an ERROR report into RuntimeError
        bpy.ops.depth_views.render()
    assert not os.path.exists(tmp_path / "out" / "cameras.json")


def _scene_state(scene):
    tree = compositor.compositor_tree(scene, create=False)
    return {
        "camera": scene.camera.name if scene.camera else None,
        "engine": scene.render.engine,
        "resolution": (scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage),
        "frame": scene.frame_current,
        "use_pass_z": scene.view_layers[0].use_pass_z,
        "nodes": sorted((n.name, n.bl_idname) for n in tree.nodes) if tree else None,
        "objects": sorted(o.name for o in bpy.data.objects),
        "materials": sorted(m.name for m in bpy.data.materials),
        "cameras": sorted(c.name for c in bpy.data.cameras),
        "samples": scene.cycles.samples,
        "hide_render": sorted((o.name, o.hide_render) for o in bpy.data.objects),
        "matrices": sorted((o.name, tuple(map(tuple, o.matrix_world))) for o in bpy.data.objects),
    }


def _user_scene(scene):
    """A scene a user might have: own camera, Workbench, odd resolution, frame 5, own compositor node."""
    user_camera = bpy.data.objects.new("user camera", bpy.data.cameras.new("user camera"))
    scene.collection.objects.link(user_camera)
    scene.camera = user_camera
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = 123, 77, 50
    scene.frame_current = 5
    scene.cycles.samples = 37
    tree = compositor.compositor_tree(scene)
    tree.nodes.new("CompositorNodeBlur").name = "user blur"
    _add_cube("hidden cube", (3, 3, 3)).hide_render = True


def test_render_restores_the_users_scene(box_scene):
    _user_scene(box_scene)
    box_scene.depth_views.normalize = True
    before = _scene_state(box_scene)
    assert bpy.ops.depth_views.render() == {"FINISHED"}
    assert _scene_state(box_scene) == before


def test_a_cancelled_job_keeps_finished_views_and_restores_the_scene(box_scene):
    """What Esc does in the window: stop after some views, write cameras for them, restore."""
    _user_scene(box_scene)
    settings = box_scene.depth_views
    settings.views, settings.normalize = 5, True
    before = _scene_state(box_scene)
    job = scene_job(box_scene, settings, [])
    with job:
        job.step()
        job.step()
        assert _scene_state(box_scene) != before  # the job is using the scene
        job.finish()
    assert _scene_state(box_scene) == before
    cameras = load_cameras_json(settings.output_dir)
    assert len(cameras["views"]) == 2
    assert sorted(os.listdir(os.path.join(settings.output_dir, "depth"))) == ["0000.exr", "0001.exr"]
    assert_depth_matches_mesh(settings.output_dir, asymmetric_mesh().vertices, asymmetric_mesh().faces,
                              object_to_world=cameras["object_to_world"])


def test_a_failing_view_restores_the_scene_and_reports(box_scene, monkeypatch):
    from depth_views.render import renderer as render
    from depth_views.errors import DepthViewsError
    _user_scene(box_scene)
    before = _scene_state(box_scene)
    calls = []

    def fail_on_second(self, view, _original=render.DepthRenderer.render_passes):
        calls.append(view.index)
        if len(calls) == 2:
            raise DepthViewsError("view 1: simulated failure")
        return _original(self, view)

    monkeypatch.setattr(render.DepthRenderer, "render_passes", fail_on_second)
    with pytest.raises(RuntimeError, match="simulated failure"):
        bpy.ops.depth_views.render()
    assert _scene_state(box_scene) == before
    assert len(load_cameras_json(box_scene.depth_views.output_dir)["views"]) == 1  # the finished view


# -- preview cameras -------------------------------------------------------------------------------

def test_preview_cameras_sit_where_the_render_cameras_are_and_are_replaced_and_cleared(box_scene):
    settings = box_scene.depth_views
    settings.views = 5
    assert bpy.ops.depth_views.preview_cameras() == {"FINISHED"}
    collection = bpy.data.collections[PREVIEW_COLLECTION_NAME]
    assert len(collection.objects) == 5
    settings.views = 4
    assert bpy.ops.depth_views.preview_cameras() == {"FINISHED"}  # replaces, never adds
    collection = bpy.data.collections[PREVIEW_COLLECTION_NAME]
    assert len(collection.objects) == 4 and len([o for o in bpy.data.objects if o.type == "CAMERA"]) == 4
    preview = {o.name: np.array(o.matrix_world) for o in collection.objects}
    assert all(o.hide_render for o in collection.objects)
    cameras = _render(box_scene)  # preview cameras do not show up in the render
    assert_depth_matches_mesh(settings.output_dir, asymmetric_mesh().vertices, asymmetric_mesh().faces)
    rendered = [np.array(v["camera_to_world"]) for v in cameras["views"]]
    assert all(np.allclose(preview[f"DV View {i}"], m, atol=1e-6) for i, m in enumerate(rendered))
    assert camera_data_matches(collection.objects[0], cameras)
    assert bpy.ops.depth_views.clear_preview() == {"FINISHED"}
    assert PREVIEW_COLLECTION_NAME not in bpy.data.collections
    assert not [o for o in bpy.data.objects if o.type == "CAMERA"]


def camera_data_matches(obj, cameras) -> bool:
    return np.isclose(obj.data.lens, cameras["lens_mm"]) and np.isclose(obj.data.sensor_width, cameras["sensor_mm"])


def test_preview_cameras_with_normalise_surround_the_unmoved_objects(box_scene):
    settings = box_scene.depth_views
    settings.normalize, settings.views = True, 6
    bpy.ops.depth_views.preview_cameras()
    positions = np.array([o.matrix_world.translation for o in bpy.data.collections[PREVIEW_COLLECTION_NAME].objects])
    vertices = asymmetric_mesh().vertices
    center = (vertices.min(axis=0) + vertices.max(axis=0)) / 2  # bounds centre, spike included
    distances = np.linalg.norm(positions - center, axis=1)
    assert np.ptp(distances) < 1e-6 and distances[0] > np.ptp(vertices, axis=0).max()


# -- F12 depth output ----------------------------------------------------------------------------------

def test_setup_depth_output_makes_f12_write_metric_depth(tmp_path, addon):
    blend = write_blend(asymmetric_mesh(), tmp_path / "scene.blend")
    bpy.ops.wm.open_mainfile(filepath=blend, load_ui=False)
    scene = bpy.context.scene
    camera = bpy.data.objects.new("cam", bpy.data.cameras.new("cam"))
    scene.collection.objects.link(camera)
    camera.location = (0.75, 1.5, 10.0)  # straight above the box, looking down -Z
    scene.camera = camera
    scene.render.engine = "CYCLES"
    scene.cycles.samples = 1
    scene.render.resolution_x = scene.render.resolution_y = 32
    scene.depth_views.output_dir = str(tmp_path / "f12")
    tree = compositor.compositor_tree(scene)
    tree.nodes.new("CompositorNodeBlur").name = "user blur"
    assert bpy.ops.depth_views.setup_depth_output() == {"FINISHED"}
    assert scene.view_layers[0].use_pass_z
    tree = compositor.compositor_tree(scene, create=False)
    first = sorted((n.name, n.bl_idname) for n in tree.nodes)
    assert bpy.ops.depth_views.setup_depth_output() == {"FINISHED"}  # idempotent
    assert sorted((n.name, n.bl_idname) for n in tree.nodes) == first
    assert {compositor.RENDER_LAYERS_NAME, compositor.FILE_OUTPUT_NAME} <= set(compositor.depth_tree_nodes(scene))
    bpy.ops.render.render(write_still=False)
    written = [f for f in os.listdir(tmp_path / "f12") if f.endswith(".exr")]
    assert len(written) == 1
    depth = read_depth(tmp_path / "f12" / written[0])
    assert np.isclose(depth[16, 16], 10.0 - 4.0, atol=1e-4)  # the box's top face is at z = 4
    assert bpy.ops.depth_views.remove_depth_output() == {"FINISHED"}
    assert compositor.depth_tree_nodes(scene) == {}
    assert "user blur" in tree.nodes  # the user's own node stays


def test_passes_formats_and_preview_settings_reach_the_render(box_scene):
    settings = box_scene.depth_views
    settings.views = 2
    settings.passes = {"depth", "distance", "mask"}
    settings.formats = {"exr", "png16", "preview", "npz"}
    settings.png16_scale = 2e-4
    settings.preview_range, settings.preview_near, settings.preview_far = "fixed", 3.0, 9.0
    settings.preview_colormap, settings.preview_invert = "viridis", True
    cameras = _render(box_scene)
    files = cameras["views"][0]["files"]
    assert {"depth", "distance", "mask"} <= {key.split("_")[0] for key in files}
    for relative in files.values():
        assert os.path.isfile(os.path.join(settings.output_dir, relative)), relative
    assert os.path.isfile(os.path.join(settings.output_dir, "views.npz"))
    assert cameras["png16"]["scale"] == pytest.approx(2e-4, rel=1e-6)
    preview = cameras["preview"]
    assert (preview["range"], preview["colormap"], preview["invert"]) == ("fixed", "viridis", True)
    assert preview["view_ranges"] == [[3.0, 9.0], [3.0, 9.0]]
    options = settings.render_options(box_scene)
    assert options.passes == ("depth", "distance", "mask") and options.formats == ("exr", "png16", "preview", "npz")


# -- camera models (docs/camera-models.md) ----------------------------------------------------------

@pytest.mark.parametrize("model", ["orthographic", "fisheye", "equirectangular"])
def test_camera_model_settings_reach_the_render_and_the_preview_cameras(tmp_path, box_scene, model):
    settings = box_scene.depth_views
    settings.camera_model = model
    settings.ortho_scale_auto, settings.ortho_scale = False, 9.0
    settings.fisheye_fov = math.radians(150.0)
    settings.longitude_min, settings.latitude_max = math.radians(-120.0), math.radians(60.0)
    assert bpy.ops.depth_views.preview_cameras() == {"FINISHED"}
    preview = bpy.data.collections[PREVIEW_COLLECTION_NAME].objects[0].data
    cameras = _render(box_scene)
    expected = {"orthographic": ("ORTHO", "ORTHOGRAPHIC"), "fisheye": ("PANO", "OPENCV_FISHEYE"),
                "equirectangular": ("PANO", "EQUIRECTANGULAR")}[model]
    assert (preview.type, cameras["camera_model"]) == expected
    if model == "orthographic":
        assert cameras["ortho_scale"] == pytest.approx(9.0) and preview.ortho_scale == pytest.approx(9.0)
    elif model == "fisheye":
        assert cameras["fisheye_fov_deg"] == pytest.approx(150.0) and preview.panorama_type == "FISHEYE_EQUIDISTANT"
        assert preview.fisheye_fov == pytest.approx(math.radians(150.0))
    else:
        assert cameras["longitude_range_deg"] == pytest.approx([-120.0, 180.0])
        assert cameras["latitude_range_deg"] == pytest.approx([-90.0, 60.0])
        assert preview.panorama_type == "EQUIRECTANGULAR" and preview.longitude_min == pytest.approx(math.radians(-120))
    # The operator renders exactly what the Python API renders with the same settings.
    objects = target_objects(box_scene, settings, [])
    bpy.ops.depth_views.clear_preview()
    render_scene(scene_input(box_scene, objects), str(tmp_path / "api"), settings.render_options(box_scene))
    for view in cameras["views"]:
        name = view["files"]["depth"]
        assert np.array_equal(read_depth(tmp_path / "out" / name), read_depth(tmp_path / "api" / name))
