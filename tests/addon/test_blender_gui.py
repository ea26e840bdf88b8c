"""A real Blender window: Debian's Blender (3.4) on a virtual X screen, the add-on installed from the
legacy zip through Blender's own "Install Add-on" operator, driven by real input events.

Needs the ``blender`` binary, ``Xvfb``, ``xdotool`` and ImageMagick's ``import`` (CI installs the
Debian packages blender, xvfb, xdotool, imagemagick); skips, naming what is missing, elsewhere.
Screenshots and the run's result.json are kept in ``$DEPTH_VIEWS_ARTIFACTS`` (default
``artifacts/gui`` in the checkout); the panel's screenshot also replaces ``docs/addon_panel.png`` when
its pixels changed (commit it with the change that moved the panel).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import numpy as np
import pytest

from checks import assert_depth_matches_mesh, load_cameras_json
from panel_labels import DEFAULT_SIDEBAR_WIDTH
from real_blender import install_legacy_addon
from repo import ROOT  # noqa: E402

DRIVER = os.path.join(ROOT, "tests", "gui", "blender_gui_driver.py")
NEEDED = {"blender": "Blender binary", "Xvfb": "virtual X server", "xdotool": "input events",
          "import": "ImageMagick screenshots"}
MISSING = [f"{tool} ({why})" for tool, why in NEEDED.items() if shutil.which(tool) is None]

pytestmark = pytest.mark.skipif(bool(MISSING), reason="real-window test needs " + ", ".join(MISSING))


def _free_display() -> int:
    for number in range(90, 140):
        if not os.path.exists(f"/tmp/.X11-unix/X{number}") and not os.path.exists(f"/tmp/.X{number}-lock"):
            return number
    raise RuntimeError("no free X display number")


@pytest.fixture
def x_display():
    number = _free_display()
    server = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not os.path.exists(f"/tmp/.X11-unix/X{number}"):
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            raise RuntimeError("Xvfb did not start")
        time.sleep(0.1)
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def artifacts():
    folder = os.environ.get("DEPTH_VIEWS_ARTIFACTS", os.path.join(ROOT, "artifacts", "gui"))
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    return folder


def _blender(arguments, environment, timeout, log_path):
    with open(log_path, "w", encoding="utf-8") as log:
        return subprocess.run(["blender", *arguments], env=environment, stdout=log, stderr=subprocess.STDOUT,
                              timeout=timeout).returncode


def test_install_show_panel_render_and_cancel_in_a_real_blender_window(tmp_path, x_display, artifacts):
    # 1. Install and enable the add-on with Blender's own operators; save preferences and a scene
    #    (the factory cube, selected), so that the window opens without the splash screen.
    environment, scene = install_legacy_addon(
        tmp_path, enable=True, extra_environment={"DISPLAY": x_display, "DEPTH_VIEWS_GUI_OUT": artifacts})

    # 2. The real window.
    _blender([str(scene), "-p", "0", "0", "1280", "800", "--python", DRIVER], environment, 600,
                    os.path.join(artifacts, "blender.log"))
    result_path = os.path.join(artifacts, "result.json")
    assert os.path.exists(result_path), open(os.path.join(artifacts, "blender.log")).read()[-3000:]
    with open(result_path, encoding="utf-8") as stream:
        result = json.load(stream)
    assert "error" not in result, result["error"] + "\n" + "\n".join(result.get("log", []))
    version = subprocess.run(["blender", "--version"], capture_output=True, text=True, timeout=60).stdout
    assert version.startswith(f"Blender {result['blender_version']}")  # the window ran this binary
    assert os.path.getsize(os.path.join(artifacts, "panel.png")) > 10_000
    # No text of the panels is cut at the default sidebar width, measured in this Blender's own UI font.
    assert round(result["sidebar_width"]) == DEFAULT_SIDEBAR_WIDTH and result["cut_texts"] == []
    _update_docs_screenshot(os.path.join(artifacts, "panel.png"), os.path.join(ROOT, "docs", "addon_panel.png"))
    with open(os.path.join(artifacts, "blender.log"), encoding="utf-8", errors="replace") as stream:
        log = stream.read()
    assert "Traceback" not in log, log[log.index("Traceback") - 200:][:3000]  # no error in any callback

    # The click rendered 6 views of the cube, exactly.
    run1 = os.path.join(artifacts, "run1")
    assert result["steps"]["wait_render"]["last_views"] == 6
    cameras = load_cameras_json(run1)
    assert len(cameras["views"]) == 6 and (cameras["width"], cameras["height"]) == (64, 48)
    cube = result["cube"]
    assert_depth_matches_mesh(run1, np.array(cube["vertices"]), _triangles(cube["faces"]))
    _assert_restored(result["before_run1"], result["after_run1"])  # camera, engine, nodes, passes, frame...

    # Esc cancelled the long run: the finished views stay, each listed once, the scene is restored.
    run2 = os.path.join(artifacts, "run2")
    cancelled = load_cameras_json(run2)
    on_disk = sorted(os.listdir(os.path.join(run2, "depth")))
    assert 2 <= len(cancelled["views"]) < 200
    assert on_disk == sorted(os.path.basename(v["files"]["depth"]) for v in cancelled["views"])
    assert result["steps"]["wait_cancel"]["last_views"] == len(cancelled["views"])
    assert result["during_run2"] != result["before_run2"]  # the job really held the scene
    _assert_restored(result["before_run2"], result["after_run2"])
    assert_depth_matches_mesh(run2, np.array(cube["vertices"]), _triangles(cube["faces"]))


def _update_docs_screenshot(taken: str, docs: str) -> None:
    """The README's picture of the panel is the one this test took (rewritten only if pixels differ)."""
    from PIL import Image

    with Image.open(taken) as new:
        new_pixels = new.convert("RGB")
    if os.path.exists(docs):
        with Image.open(docs) as old:
            if old.size == new_pixels.size and np.array_equal(np.asarray(old.convert("RGB")), np.asarray(new_pixels)):
                return
    new_pixels.save(docs, optimize=True)


def _assert_restored(before: dict, after: dict) -> None:
    """Equal, except one thing Blender < 5 cannot undo: a scene that had no compositor tree keeps
    the embedded tree with Blender's own default nodes (Render Layers -> Composite), switched off,
    exactly what "Use Nodes" would have created for the user."""
    if before["nodes"] is None and after["nodes"] is not None:
        assert after["nodes"] == ["Composite", "Render Layers"] and not after["use_nodes"]
        after = {**after, "nodes": None}
    assert after == before


def _triangles(faces):
    return np.array([[face[0], face[i], face[i + 1]] for face in faces for i in range(1, len(face) - 1)])
