"""Installing the add-on into a real Blender binary the way a user does: build the legacy zip, then
``preferences.addon_install`` in a private user folder (shared by the GUI and headless tests)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def install_legacy_addon(folder, *, enable: bool = False, extra_environment: dict | None = None):
    """Build the legacy zip into ``folder``/dist, install it into ``folder``'s user scripts and save
    the factory scene (cube, camera, light) as ``folder``/scene.blend.

    With ``enable`` the add-on is also enabled and the preferences saved, so a plain ``blender``
    start loads it (and, opening a file, shows no splash screen).  Returns ``(environment, scene)``:
    the environment to run ``blender`` with (private user folders, no PYTHONPATH, so the add-on comes
    from the zip and not from this checkout; Blender's own folder first on PATH).  Fails the test, with Blender's output, on any error.
    """
    built = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "build_extension.py"), "--legacy-only",
                            "--out", str(folder / "dist")], capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    zip_path = next((folder / "dist").glob("*-legacy.zip"))
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # A Blender built against the system Python (Debian's) finds its standard library through the
    # first python3 on PATH: with a pyenv/venv python first, it loses the system numpy.
    environment["PATH"] = os.pathsep.join([os.path.dirname(shutil.which("blender")), environment.get("PATH", "")])
    environment.update(extra_environment or {}, BLENDER_USER_CONFIG=str(folder / "config"),
                       BLENDER_USER_SCRIPTS=str(folder / "scripts"))
    scene = folder / "scene.blend"
    install = f"import bpy; bpy.ops.preferences.addon_install(filepath={str(zip_path)!r}); "
    if enable:
        install += "bpy.ops.preferences.addon_enable(module='depth_views'); bpy.ops.wm.save_userpref(); "
    install += f"bpy.ops.wm.save_as_mainfile(filepath={str(scene)!r})"
    result = subprocess.run(["blender", "-b", "--factory-startup", "--python-exit-code", "3", "--python-expr", install],
                            env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and scene.exists(), result.stdout[-2000:] + result.stderr[-2000:]
    assert (folder / "scripts" / "addons" / "depth_views" / "__init__.py").exists()
    return environment, scene
