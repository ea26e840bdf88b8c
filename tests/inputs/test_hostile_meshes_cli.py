"""``depth-views render`` over the whole hostile-mesh corpus in one run (needs bpy).

Every broken file gets exactly one line on stderr that names it and says what is wrong; the good
inputs among them still render; finished outputs already in --out are left byte for byte.
"""

from __future__ import annotations

import os
import shutil

import pytest

bpy = pytest.importorskip("bpy")

import make_corpus  # noqa: E402
from checks import tree_digest  # noqa: E402
from depth_views.cli import main  # noqa: E402
from depth_views.exr_io import read_depth  # noqa: E402
from depth_views.options import output_folder_names  # noqa: E402

SMALL = ["--resolution", "32", "32", "--views", "2", "--quiet"]


def test_whole_corpus_in_one_run(mesh_corpus, tmp_path, capfd):
    folder, cases = mesh_corpus
    vertices, faces = make_corpus.box_mesh()
    unusual = tmp_path / "dir with spaces ü" / " 日本 mesh (1).obj"
    unusual.parent.mkdir()
    unusual.write_bytes(make_corpus.obj_bytes(vertices, faces))
    out = tmp_path / "out folder é"
    # A finished result from an earlier run, whose folder name a failing input of this run shares.
    earlier = tmp_path / "earlier" / "truncated.obj"
    earlier.parent.mkdir()
    earlier.write_bytes(make_corpus.obj_bytes(vertices, faces))
    assert main(["render", str(earlier), "--out", str(out), *SMALL]) == 0
    before = tree_digest(out)
    capfd.readouterr()

    inputs = [str(folder / case.name) for case in cases] + [str(unusual)]
    assert main(["render", *inputs, "--out", str(out), *SMALL]) == 1
    captured = capfd.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("depth-views: error: ")]
    bad = [case for case in cases if case.expect is not None]
    assert len(errors) == len(bad), "\n".join(errors)  # one line each
    # Nothing else about the bad files: no tracebacks, no importer noise (a good file's importer
    # warning, such as Blender 4.2's missing-.mtl line, may stay).
    others = [line for line in lines if line not in errors]
    assert "Traceback" not in captured.err and len(others) <= 2, "\n".join(others)
    assert not [line for line in others for case in bad if case.name in line], "\n".join(others)
    for case, line in zip(bad, errors):
        path = str(folder / case.name)
        assert line.startswith(f"depth-views: error: {path}: "), line
        assert case.expect in line, f"{case.what}: {line}"
        assert "unexpected failure" not in line and "Location:" not in line, line
    good = [case for case in cases if case.expect is None]
    summary = captured.out.strip().splitlines()[-1]
    assert f"rendered {len(good) + 1} of {len(inputs)} inputs" in summary, summary

    names = dict(zip(inputs, output_folder_names(inputs)))
    assert names[str(unusual)] == "日本 mesh (1)"
    for name in [names[str(folder / case.name)] for case in good] + [names[str(unusual)]]:
        depth_files = sorted(os.listdir(out / name / "depth"))
        assert depth_files == ["0000.exr", "0001.exr"], name
        assert (out / name / "cameras.json").exists()
        assert any(read_depth(out / name / "depth" / f).max() > 0 for f in depth_files)
    after = tree_digest(out)
    assert {path: after[path] for path in before} == before, "a finished output was changed"
    assert not [path for path in after if os.path.basename(path).startswith(".")], "temporary files left"


@pytest.mark.parametrize("name", ["billion_vertices_binary.ply", "billion_faces.ply"])
def test_a_ply_count_that_used_to_abort_blender_is_one_line_in_a_subprocess(mesh_corpus, tmp_path, name):
    """Before the mesh guard these aborted the whole process (std::out_of_range); run them for real."""
    import subprocess
    import sys

    folder, _ = mesh_corpus
    result = subprocess.run(
        [sys.executable, "-m", "depth_views", "render", str(folder / name), "--out", str(tmp_path), *SMALL],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"depth-views: error: {folder / name}: the PLY header declares 3000000000 "
        f"{'vertex' if 'vertices' in name else 'face'} elements, more than any importer can hold (2147483647)"]


def test_a_camera_sphere_inside_the_mesh_is_refused_and_others_render(mesh_corpus, tmp_path, capfd):
    folder, _ = mesh_corpus
    vertices, faces = make_corpus.box_mesh(size=(10, 10, 10), offset=(-5, -5, -5))
    room = tmp_path / "room.obj"
    room.write_bytes(make_corpus.obj_bytes(vertices, faces))
    small = tmp_path / "small.obj"
    small.write_bytes(make_corpus.obj_bytes(*make_corpus.box_mesh(size=(1, 1, 1), offset=(-.5, -.5, -.5))))
    assert main(["render", str(room), str(small), "--out", str(tmp_path / "out"), "--radius", "3", *SMALL]) == 1
    errors = capfd.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and str(room) in errors[0] and "inside the object's bounding box" in errors[0]
    assert "--radius" in errors[0]
    assert sorted(os.listdir(tmp_path / "out" / "small" / "depth")) == ["0000.exr", "0001.exr"]
    assert not (tmp_path / "out" / "room").exists()
    shutil.rmtree(tmp_path / "out")
