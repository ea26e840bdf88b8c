"""The benchmark's own pieces: generated meshes, cameras identical to the CLI's, the allocator switch.

No timings are checked here (the benchmark reports them); these guard what the numbers rest on.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from repo import ROOT

BENCHMARKS = os.path.join(ROOT, "benchmarks")
sys.path.insert(0, BENCHMARKS)

import bench_meshes as meshes  # noqa: E402


@pytest.mark.parametrize("name, n_faces", [("sphere_32k", 32256), ("scan_5k", None), ("torus_1m", 1048576)])
def test_generated_meshes_have_the_advertised_size_and_round_trip_through_ply(tmp_path, name, n_faces):
    if name == "torus_1m" and os.environ.get("CI"):
        pytest.skip("the 1M-triangle mesh takes a few seconds to generate; checked outside CI")
    vertices, faces = meshes.make_mesh(name)
    if n_faces is not None:
        assert len(faces) == n_faces
    else:
        assert 2000 < len(faces) < 8000
    assert faces.min() >= 0 and faces.max() < len(vertices)
    path = meshes.write_ply(str(tmp_path / f"{name}.ply"), vertices, faces)
    assert np.array_equal(meshes.read_ply_vertices(path), vertices.astype(np.float32).astype(np.float64))
    trimesh = pytest.importorskip("trimesh")
    loaded = trimesh.load(path, process=False)
    assert np.array_equal(loaded.faces, faces)


def test_uv_sphere_is_closed_and_on_the_sphere():
    trimesh = pytest.importorskip("trimesh")
    vertices, faces = meshes.uv_sphere(32, 16)
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    assert mesh.is_watertight and mesh.is_winding_consistent
    assert np.allclose(np.linalg.norm(vertices, axis=1), 1.0)


def test_benchmark_cameras_are_the_ones_the_cli_chooses(tmp_path):
    """The references get their cameras from run.mesh_plan; it must match render.plan.plan_views."""
    pytest.importorskip("bpy")
    import run
    from depth_views.options import RenderOptions
    from depth_views.inputs.scene_import import load_input
    from depth_views.render.plan import plan_views
    from depth_views.resolved import resolve

    path = meshes.write_ply(str(tmp_path / "scan.ply"), *meshes.scan_like())
    item = run.mesh_plan(path, 128, 6)
    plan = plan_views(load_input(path), resolve(RenderOptions(views=6, resolution=(128, 128))))
    assert np.allclose(item["K"], plan.intrinsics.K)
    assert np.isclose(item["radius"], plan.radius) and np.allclose(item["center"], plan.center)
    assert np.isclose(item["clip_start"], plan.clip_start) and np.isclose(item["clip_end"], plan.clip_end)
    for ours, theirs in zip(item["views"], plan.views):
        assert np.allclose(ours["world_to_camera"], theirs.world_to_camera, atol=1e-12)


def test_keep_freed_memory_applies_on_glibc_linux_and_is_harmless_twice():
    import platform

    from depth_views.render.allocator import keep_freed_memory

    applied = keep_freed_memory()
    assert keep_freed_memory() == applied
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert applied is True
    else:
        assert applied is False


def test_datasets_benchmark_counts_the_files_each_layout_creates(tmp_path):
    """benchmarks/datasets_bench.py on 3 tiny meshes (analytic payload, no render): the counts its
    tables rest on (files and folders per layout), not its timings."""
    import subprocess

    pytest.importorskip("webdataset")
    result = subprocess.run([sys.executable, os.path.join(BENCHMARKS, "datasets_bench.py"), "--meshes", "3",
                             "--views", "2", "--resolution", "16", "--render-meshes", "0", "--scratch", str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = {}
    for line in result.stdout.splitlines():   # the first table with these rows: write + read
        if line.startswith(("| folders |", "| webdataset |")):
            rows.setdefault(line.split("|")[1].strip(), line.split("|")[2:4])
    # folders: per mesh depth/0000.exr, depth/0001.exr, cameras.json, transforms.json in <mesh>/ and <mesh>/depth/
    assert [c.strip() for c in rows["folders"]] == ["12", "6"]
    # webdataset: one shard and index.jsonl, in shards/
    assert [c.strip() for c in rows["webdataset"]] == ["2", "1"]


def test_mesh_guard_benchmark_writes_the_grid_in_every_format_and_the_guard_opens_each_once(tmp_path, capsys):
    import mesh_guard_speed as guard_benchmark
    from depth_views.inputs.mesh_guard import guard_mesh_file

    vertices, faces = guard_benchmark.grid_mesh(200)
    assert len(faces) == 200 and len(vertices) == 121 and faces.min() == 0 and faces.max() == len(vertices) - 1
    assert guard_benchmark.main(["--triangles", "200", "--reps", "1", "--folder", str(tmp_path)]) == 0
    rows = [line.split("|") for line in capsys.readouterr().out.splitlines() if line.startswith("| grid_")]
    assert len(rows) == len(guard_benchmark.FORMATS) and all(row[-2].strip() == "1" for row in rows)
    for name in os.listdir(tmp_path):
        facts = guard_mesh_file(tmp_path / name)
        assert facts.non_finite == 0
        if name.endswith(".off"):
            assert np.allclose(facts.parsed_mesh[0], vertices, atol=1e-6) and len(facts.parsed_mesh[1]) == 200
        if name.endswith(".obj"):
            assert facts.material_libraries == ("grid.mtl",)
