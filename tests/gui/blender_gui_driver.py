"""Runs inside a real Blender window (``blender scene.blend --python blender_gui_driver.py``) on a
virtual X screen, and drives the Depth Views add-on through real input events (xdotool).

Steps (a timer runs them one after another; Blender's event loop keeps running in between):
1. open the 3D viewport's sidebar and switch its tab to "Depth Views" with Ctrl+Wheel over it,
   checking that our panel is really drawn; screenshot ``panel.png``; measure every text of the
   panels in this Blender's UI font against the sidebar's real width (tests/panel_labels.py);
2. click the "Render Depth Views" button (6 views); wait until the modal operator finishes;
   screenshot ``rendered.png``;
3. click it again for a long run (200 views), press Esc once the first views are on disk, wait for
   the cancel;
4. write ``result.json`` (what happened, the scene's state before/after each run, the cube's
   geometry) into ``$DEPTH_VIEWS_GUI_OUT`` and quit.

If a click or a key does not reach Blender, the step fails and result.json says which one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback

import bpy

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: panel_labels
import panel_labels  # noqa: E402

OUT = os.environ["DEPTH_VIEWS_GUI_OUT"]
LOG = []
RESULT: dict = {"steps": {}, "blender_version": bpy.app.version_string}
DRAWN = {"main": 0}


def log(text):
    LOG.append(f"{time.monotonic():.2f} {text}")


def xdotool(*arguments):
    subprocess.run(["xdotool", *map(str, arguments)], check=True, timeout=20)


def screenshot(name):
    subprocess.run(["import", "-window", "root", os.path.join(OUT, name)], check=True, timeout=60)


def view3d():
    window = bpy.context.window_manager.windows[0]
    for area in window.screen.areas:
        if area.type == "VIEW_3D":
            return window, area, next(r for r in area.regions if r.type == "UI")
    raise RuntimeError("no 3D viewport")


def to_screen(window, x, y):
    """Window coordinates (origin bottom-left) to X screen coordinates (origin top-left)."""
    return int(window.x + x), int(window.height - y)


def scene_state():
    scene = bpy.context.scene
    tree = scene.node_tree
    return {
        "camera": scene.camera.name if scene.camera else None,
        "engine": scene.render.engine,
        "resolution": [scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage],
        "frame": scene.frame_current,
        "use_pass_z": scene.view_layers[0].use_pass_z,
        "use_nodes": scene.use_nodes,
        "nodes": sorted(n.name for n in tree.nodes) if tree else None,
        "objects": sorted(o.name for o in bpy.data.objects),
        "materials": sorted(m.name for m in bpy.data.materials),
        "material_override": getattr(scene.view_layers[0].material_override, "name", None),
        "cube_matrix": [list(row) for row in bpy.data.objects["Cube"].matrix_world],
    }


def cube_geometry():
    cube = bpy.data.objects["Cube"]
    matrix = cube.matrix_world
    return {"vertices": [list(matrix @ v.co) for v in cube.data.vertices],
            "faces": [list(p.vertices) for p in cube.data.polygons]}


def settings():
    return bpy.context.scene.depth_views


def run_steps():
    steps = [show_panel, click_render, wait_render, start_long_render, press_escape, wait_cancel, finish]
    state = {"index": 0, "deadline": time.monotonic() + 60}

    def tick():
        try:
            step = steps[state["index"]]
            outcome = step()
            if outcome is None:  # not done yet
                if time.monotonic() > state["deadline"]:
                    raise TimeoutError(f"step {step.__name__} did not finish in time")
                return 0.25
            RESULT["steps"][step.__name__] = outcome
            log(f"{step.__name__}: {outcome}")
            state["index"] += 1
            state["deadline"] = time.monotonic() + 120
            return None if state["index"] == len(steps) else 0.25
        except Exception:
            RESULT["error"] = traceback.format_exc()
            finish()
            return None

    bpy.app.timers.register(tick, first_interval=2.0)


TAB = {"tries": 0}


def show_panel():
    window, area, region = view3d()
    space = area.spaces.active
    if not space.show_region_ui:
        space.show_region_ui = True
        area.tag_redraw()
        return None
    if DRAWN["main"] and TAB.get("drawn_at") is None:
        TAB["drawn_at"] = time.monotonic()
    if TAB.get("drawn_at") is not None:
        if time.monotonic() - TAB["drawn_at"] < 1.0:  # let it settle, then photograph
            return None
        screenshot("panel.png")
        from depth_views import panels

        scale = bpy.context.preferences.system.ui_scale
        RESULT["sidebar_width"] = region.width / scale
        cut = []
        for _ in panel_labels.panel_states(settings()):
            cut += panel_labels.cut_texts(panels.CLASSES, bpy.context, region.width / scale)
        RESULT["cut_texts"] = sorted(set(cut))
        return {"tab_switches": TAB["tries"]}
    if TAB.get("last") and time.monotonic() - TAB["last"] < 0.5:
        return None
    if TAB["tries"] >= 12:
        screenshot("tab_not_found.png")
        raise RuntimeError("Ctrl+Wheel over the sidebar never showed the Depth Views tab")
    # Over the tab strip at the sidebar's right edge (the empty part of an overlapping sidebar
    # passes events through to the viewport).
    scale = bpy.context.preferences.system.ui_scale
    x, y = to_screen(window, region.x + region.width - int(10 * scale), region.y + region.height - int(60 * scale))
    xdotool("mousemove", x, y, "keydown", "ctrl", "click", "5", "keyup", "ctrl")
    TAB["tries"] += 1
    if os.environ.get("DEPTH_VIEWS_GUI_DEBUG"):
        screenshot(f"tab_try_{TAB['tries']}.png")
    TAB["last"] = time.monotonic()
    return None


RUN = {}


def _click_render_button():
    window, area, region = view3d()
    # The Depth Views panel is first in its tab; its first row is the Render Depth Views button.
    scale = bpy.context.preferences.system.ui_scale
    x, y = to_screen(window, region.x + (region.width - 24 * scale) // 2,
                     region.y + region.height - int(48 * scale))
    xdotool("mousemove", x, y, "click", "1")
    return [x, y]


def click_render():
    s = settings()
    s.views, s.resolution_x, s.resolution_y = 6, 64, 48
    s.target, s.output_dir = "SELECTED", os.path.join(OUT, "run1")
    s.last_output = ""
    RESULT["before_run1"] = scene_state()
    RESULT["cube"] = cube_geometry()
    return {"clicked_at": _click_render_button()}


def wait_render():
    if settings().last_output:
        RESULT["after_run1"] = scene_state()
        screenshot("rendered.png")
        return {"last_output": settings().last_output, "last_views": settings().last_views}
    return None


def start_long_render():
    s = settings()
    s.views, s.resolution_x, s.resolution_y = 200, 160, 120
    s.output_dir = os.path.join(OUT, "run2")
    s.last_output = ""
    RESULT["before_run2"] = scene_state()
    return {"clicked_at": _click_render_button()}


def press_escape():
    folder = os.path.join(OUT, "run2", "depth")
    written = [f for f in os.listdir(folder) if f.endswith(".exr")] if os.path.isdir(folder) else []
    if len(written) < 2:
        return None
    if "during_run2" not in RESULT:
        RESULT["during_run2"] = scene_state()
        screenshot("progress.png")
    window, area, region = view3d()
    x, y = to_screen(window, area.x + area.width // 3, area.y + area.height // 2)
    xdotool("mousemove", x, y, "key", "Escape")
    return {"views_on_disk_when_pressed": len(written)}


def wait_cancel():
    if settings().last_output:
        RESULT["after_run2"] = scene_state()
        return {"last_views": settings().last_views}
    return None


def finish():
    RESULT["log"] = LOG
    with open(os.path.join(OUT, "result.json"), "w", encoding="utf-8") as stream:
        json.dump(RESULT, stream, indent=1)
    bpy.ops.wm.quit_blender()
    return {"written": True}


def install_draw_counter():
    """Count draws of our main panel, so the driver knows the Depth Views tab is really showing."""
    panel = bpy.types.DEPTHVIEWS_PT_main
    original = panel.draw

    def draw(self, context):
        DRAWN["main"] += 1
        original(self, context)

    panel.draw = draw


install_draw_counter()
run_steps()
