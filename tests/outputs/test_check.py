"""``depth-views check``: passes on good folders, fails on deliberately broken ones."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from depth_views.cli import main


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    pytest.importorskip("bpy")
    import sys

    sys.modules["bpy"].ops.wm.read_factory_settings(use_empty=True)
    from meshes import asymmetric_mesh, write_mesh

    tmp = tmp_path_factory.mktemp("check")
    obj = write_mesh(asymmetric_mesh(), tmp / "asym.obj")
    assert main(["render", obj, "--out", str(tmp / "out"), "--resolution", "64", "48", "--views", "8",
                 "--quiet"]) == 0
    return tmp, obj, tmp / "out" / "asym"


def broken(good, tmp_path, change):
    _, _, folder = good
    copy = tmp_path / "asym"
    shutil.copytree(folder, copy)
    document = json.loads((copy / "cameras.json").read_text())
    change(document)
    (copy / "cameras.json").write_text(json.dumps(document))
    return copy


def run_check(folder, *extra, capsys):
    code = main(["check", str(folder), *map(str, extra)])
    lines = capsys.readouterr().out.strip().splitlines()
    return code, lines


def test_a_good_folder_passes_with_and_without_the_mesh(good, capsys):
    pytest.importorskip("trimesh")
    _, obj, folder = good
    code, lines = run_check(folder, capsys=capsys)
    assert code == 0 and lines[-1].endswith("PASS: 8 views agree") and len(lines) == 9
    assert all(line.endswith(" ok") for line in lines[:-1])
    code, lines = run_check(folder, "--mesh", obj, capsys=capsys)
    assert code == 0 and "mesh 100.0%" in lines[0]
    code, lines = run_check(folder.parent, capsys=capsys)  # a folder of rendered folders (batch, shards)
    assert code == 0


def _shift_K(document):
    document["K"][0][2] += 3.0


def _flip_pose(document):
    view = document["views"][2]
    w2c = np.diag([-1.0, -1.0, 1.0, 1.0]) @ np.asarray(view["world_to_camera"])   # turned about the optical axis
    view["world_to_camera"] = w2c.tolist()


def _wrong_depth(document):
    document["views"][1]["files"]["depth"] = document["views"][5]["files"]["depth"]


@pytest.mark.parametrize("change, bad_view", [(_shift_K, None), (_flip_pose, 2), (_wrong_depth, 1)])
def test_a_broken_folder_fails(good, tmp_path, capsys, change, bad_view):
    folder = broken(good, tmp_path, change)
    code, lines = run_check(folder, capsys=capsys)
    print("\n".join(lines))
    assert code == 1 and "FAIL" in lines[-1]
    if bad_view is not None:
        assert lines[bad_view].endswith("FAIL")


def test_a_shifted_K_fails_the_mesh_recast(good, tmp_path, capsys):
    pytest.importorskip("trimesh")
    _, obj, _ = good
    folder = broken(good, tmp_path, lambda d: d["K"][1].__setitem__(2, d["K"][1][2] - 1.0))
    code, lines = run_check(folder, "--mesh", obj, capsys=capsys)
    assert code == 1 and all(line.endswith("FAIL") for line in lines[:-1])
