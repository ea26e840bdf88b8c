"""Headless use from a real Blender binary (Debian's Blender 3.4 in CI): ``--addons`` with
``--python-expr`` and with a ``-P`` script, exactly as the README shows."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from checks import assert_depth_matches_mesh, load_cameras_json
from real_blender import install_legacy_addon

pytestmark = pytest.mark.skipif(shutil.which("blender") is None, reason="needs the blender binary")

CUBE_VERTICES = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=float)
CUBE_TRIANGLES = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                           [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The legacy zip installed into a private user scripts folder, and the factory scene saved."""
    folder = tmp_path_factory.mktemp("blender")
    environment, scene = install_legacy_addon(folder)
    return folder, environment, scene


def test_addons_flag_with_python_expr(installed, tmp_path):
    folder, environment, scene = installed
    expression = ("import bpy; s = bpy.context.scene.depth_views; s.target = 'SCENE'; s.views = 4; "
                  f"s.resolution_x = s.resolution_y = 48; s.output_dir = {str(tmp_path / 'out')!r}; "
                  "bpy.ops.depth_views.render()")
    result = subprocess.run(["blender", "-b", str(scene), "--addons", "depth_views", "--python-exit-code", "3",
                             "--python-expr", expression], env=environment, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Depth Views: wrote 4 views" in result.stdout
    assert len(load_cameras_json(tmp_path / "out")["views"]) == 4
    assert_depth_matches_mesh(tmp_path / "out", CUBE_VERTICES, CUBE_TRIANGLES)


def test_addons_flag_with_a_script_and_an_error_exit_code(installed, tmp_path):
    folder, environment, scene = installed
    script = tmp_path / "render_depth.py"
    script.write_text(
        "import sys, bpy\n"
        "settings = bpy.context.scene.depth_views\n"
        "settings.target, settings.views = 'SCENE', 3\n"
        "settings.resolution_x, settings.resolution_y = 40, 30\n"
        "settings.output_dir = sys.argv[sys.argv.index('--') + 1]\n"
        "bpy.ops.depth_views.render()\n", encoding="utf-8")
    command = ["blender", "-b", str(scene), "--addons", "depth_views", "--python-exit-code", "3", "-P", str(script),
               "--", str(tmp_path / "out")]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert_depth_matches_mesh(tmp_path / "out", CUBE_VERTICES, CUBE_TRIANGLES)
    # The same script on a scene with nothing to render: the operator's error becomes exit code 3.
    empty = tmp_path / "empty.blend"
    subprocess.run(["blender", "-b", "--factory-startup", "--python-expr",
                    f"import bpy; bpy.ops.wm.read_homefile(use_empty=True); "
                    f"bpy.ops.wm.save_as_mainfile(filepath={str(empty)!r})"], env=environment,
                   capture_output=True, timeout=120, check=True)
    command[2] = str(empty)
    result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 3 and "has no visible mesh objects" in result.stdout + result.stderr
