"""Headless use from a real Blender binary (Debian's Blender 3.4 in CI): ``--addons`` with
``--python-expr`` and with a ``-P`` script, the commands of docs/addon.md as they stand there
(read from the page; view counts lowered by docs_blocks.capped)."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from checks import assert_depth_matches_mesh, load_cameras_json
from docs_blocks import capped, docs_block
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


def _docs_commands(tmp_path, scene):
    """docs/addon.md's two headless commands and its render_depth.py, ready to run in ``tmp_path``."""
    shutil.copy(scene, tmp_path / "scene.blend")
    (tmp_path / "render_depth.py").write_text(capped(docs_block("docs/addon.md", "render-script")), encoding="utf-8")
    text = capped(docs_block("docs/addon.md", "headless")).replace("\\\n", " ")
    commands = [line.strip() for line in text.splitlines() if line.strip().startswith("blender ")]
    assert len(commands) == 2
    return commands


def _run(command, environment, cwd):
    return subprocess.run(["bash", "-c", command], env=environment, cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_addons_flag_with_python_expr(installed, tmp_path):
    folder, environment, scene = installed
    command = _docs_commands(tmp_path, scene)[0]
    result = _run(command, environment, tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    views = int(re.search(r"s\.views = (\d+)", command).group(1))
    assert len(load_cameras_json(tmp_path / "out")["views"]) == views
    assert_depth_matches_mesh(tmp_path / "out", CUBE_VERTICES, CUBE_TRIANGLES)
    # it prints what the page shows (numbers aside; the page's /home/you is this folder)
    printed = {re.sub(r"\d+", "#", line.strip()) for line in result.stdout.splitlines()}
    for line in docs_block("docs/addon.md", "headless-output").splitlines():
        line = re.sub(r"\d+", "#", line.replace("/home/you", str(tmp_path)).strip())
        assert not line or line in printed, (line, result.stdout[-3000:])


def test_addons_flag_with_a_script_and_an_error_exit_code(installed, tmp_path):
    folder, environment, scene = installed
    command = _docs_commands(tmp_path, scene)[1]
    result = _run(command, environment, tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert_depth_matches_mesh(tmp_path / "out", CUBE_VERTICES, CUBE_TRIANGLES)
    # The same script on a scene with nothing to render: the operator's error becomes exit code 3.
    subprocess.run(["blender", "-b", "--factory-startup", "--python-expr",
                    f"import bpy; bpy.ops.wm.read_homefile(use_empty=True); "
                    f"bpy.ops.wm.save_as_mainfile(filepath={str(tmp_path / 'scene.blend')!r})"], env=environment,
                   capture_output=True, timeout=120, check=True)
    result = _run(command, environment, tmp_path)
    assert result.returncode == 3 and "has no visible mesh objects" in result.stdout + result.stderr
