"""Rendering only the pixels the object can cover (render border) gives exactly the full-frame depth."""

from __future__ import annotations

import numpy as np
import pytest

from depth_views.cameras import Intrinsics, look_at, pixel_box_of_points, sample_views, world_to_camera_opencv


def _camera(position=(0.0, -5.0, 0.0), target=(0.0, 0.0, 0.0)):
    return world_to_camera_opencv(look_at(position, target))


def test_pixel_box_holds_the_projected_points_plus_margin():
    intrinsics = Intrinsics(64, 48)
    world_to_camera = _camera()
    points = np.array([[-0.3, 0.0, -0.2], [0.4, 0.2, 0.25], [0.0, -0.1, 0.0]])
    camera = points @ world_to_camera[:3, :3].T + world_to_camera[:3, 3]
    K = intrinsics.K
    u = K[0, 0] * camera[:, 0] / camera[:, 2] + K[0, 2]
    v = K[1, 1] * camera[:, 1] / camera[:, 2] + K[1, 2]
    u_start, u_stop, v_start, v_stop = pixel_box_of_points(points, K, world_to_camera, 64, 48, margin=2)
    assert u_start <= np.floor(u.min()) - 2 and u_stop >= np.ceil(u.max()) + 3
    assert v_start <= np.floor(v.min()) - 2 and v_stop >= np.ceil(v.max()) + 3
    assert u_stop - u_start < 64 and v_stop - v_start < 48


def test_pixel_box_is_clipped_to_the_image_and_refuses_what_it_cannot_bound():
    intrinsics = Intrinsics(32, 32)
    world_to_camera = _camera()
    huge = np.array([[-100.0, 0.0, -100.0], [100.0, 0.0, 100.0]])
    assert pixel_box_of_points(huge, intrinsics.K, world_to_camera, 32, 32) == (0, 32, 0, 32)
    behind = np.array([[0.0, 0.0, 0.0], [0.0, -6.0, 0.0]])           # second point behind the camera
    assert pixel_box_of_points(behind, intrinsics.K, world_to_camera, 32, 32) is None
    off_screen = np.array([[50.0, 0.0, 0.0], [51.0, 0.0, 0.0]])       # entirely right of the view
    assert pixel_box_of_points(off_screen, intrinsics.K, world_to_camera, 32, 32) is None
    assert pixel_box_of_points(np.empty((0, 3)), intrinsics.K, world_to_camera, 32, 32) is None


@pytest.mark.parametrize("width, height", [(48, 40), (37, 53), (101, 75)])
def test_cropped_border_render_equals_full_frame_and_settings_are_restored(tmp_path, width, height):
    """Every pass of the cropped border render lands on exactly the full frame's pixels (odd sizes
    included, where a border fraction is not exact in float32)."""
    bpy = pytest.importorskip("bpy")
    from meshes import asymmetric_mesh, write_mesh

    from depth_views.inputs.scene_import import load_input
    from depth_views.options import RenderOptions
    from depth_views.render.plan import plan_views
    from depth_views.render.renderer import DepthRenderer
    from depth_views.resolved import resolve

    mesh = asymmetric_mesh()
    loaded = load_input(write_mesh(mesh, tmp_path / "asym.ply"))
    render = loaded.scene.render
    before = (render.use_border, render.border_min_x, render.border_max_y, render.use_crop_to_border)
    center = mesh.bounds.mean(axis=0)
    # radius 4 puts parts of the object outside some frames (the border is clipped to the image);
    # from radius 9 it is whole, in a small border
    views = (sample_views(sampling="fibonacci", n_views=4, center=center, radius=4.0)
             + sample_views(sampling="fibonacci", n_views=4, center=center, radius=9.0))
    intrinsics = Intrinsics(width, height)
    setup = resolve(RenderOptions(resolution=(width, height), clip_start=0.1, clip_end=50.0,
                                  passes=("depth", "normal", "mask")))
    plan = plan_views(loaded, setup, views=views)
    with DepthRenderer(setup, plan, scene=loaded.scene) as renderer:
        full = [renderer.view_result(view) for view in views]
    with DepthRenderer(setup, plan, scene=loaded.scene, bounds_points=mesh.vertices) as renderer:
        bordered = [renderer.view_result(view) for view in views]
    cropped = 0
    for view, a, b in zip(views, full, bordered):
        assert np.isfinite(a.depth).any()
        assert np.array_equal(a.depth, b.depth)
        assert np.array_equal(a.normal, b.normal)
        assert np.array_equal(a.mask, b.mask)
        box = pixel_box_of_points(mesh.vertices, intrinsics.K, view.world_to_camera, width, height)
        cropped += box is not None and box != (0, width, 0, height)
    assert cropped >= 3          # the comparison really covered cropped renders
    assert (render.use_border, render.border_min_x, render.border_max_y, render.use_crop_to_border) == before
    assert bpy.context.scene.render.use_border is False


def test_only_mesh_files_promise_their_vertices_bound_the_render(tmp_path):
    pytest.importorskip("bpy")
    from meshes import asymmetric_mesh, write_blend, write_mesh

    from depth_views.inputs.scene_import import LoadedInput, load_input
    from depth_views.options import RenderOptions
    from depth_views.render.plan import plan_views, render_bounds
    from depth_views.resolved import resolve

    mesh = asymmetric_mesh()
    loaded = load_input(write_mesh(mesh, tmp_path / "asym.obj"))
    setup = resolve(RenderOptions(views=2, resolution=(16, 16)))
    plan = plan_views(loaded, setup)
    assert np.allclose(render_bounds(loaded, plan), mesh.vertices, atol=1e-6)
    blend = load_input(write_blend(mesh, tmp_path / "asym.blend"))
    assert render_bounds(blend, plan_views(blend, setup)) is None
    scene_only = LoadedInput("Scene", loaded.scene, loaded.objects)          # the add-on's kind of input
    assert render_bounds(scene_only, plan) is None
