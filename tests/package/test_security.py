"""What Depth Views must never do: run code from a .blend, write outside --out, use the network."""

from __future__ import annotations

import ast
import importlib.util
import os
import tomllib
import unicodedata

import pytest

from depth_views.options import output_folder_names, sanitized_name
from repo import ROOT  # noqa: E402

PACKAGE = ROOT
NETWORK_MODULES = ("socket", "ssl", "http", "urllib.request", "urllib.error", "urllib3", "requests",
                   "httpx", "aiohttp", "ftplib", "smtplib", "poplib", "imaplib", "telnetlib", "xmlrpc",
                   "websocket", "websockets", "asyncio", "webbrowser")


def package_sources(root: str = PACKAGE):
    """The Python files that ship in the add-on: the tracked files the manifest's exclude patterns keep,
    as the build takes them (tools/build_extension.py package_files)."""
    spec = importlib.util.spec_from_file_location("build_extension", os.path.join(root, "tools", "build_extension.py"))
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    for relative in build.package_files(build.read_manifest(root), root):
        if relative.endswith(".py"):
            yield os.path.join(root, relative)


def test_the_shipped_sources_of_a_cluttered_checkout_are_only_its_tracked_ones(cluttered_checkout):
    """A .venv/, venv/, env/ or stray module in the checkout (each importing socket) is not looked at."""
    from checkout import CLUTTER

    sources = {os.path.relpath(path, cluttered_checkout) for path in package_sources(str(cluttered_checkout))}
    assert sources == {os.path.relpath(path, PACKAGE) for path in package_sources()}
    assert "operators/__init__.py" in sources and not sources & set(CLUTTER)


def test_nothing_in_the_package_imports_a_network_module():
    sources = list(package_sources())
    assert len(sources) > 15 and any(path.endswith(os.path.join("mesh_guard", "ply.py")) for path in sources)
    offenders = []
    for path in sources:
        with open(path, encoding="utf-8") as stream:
            tree = ast.parse(stream.read(), path)
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("url_open", "urlopen"):
                names = ["url_open"]
            elif isinstance(node, ast.Name) and node.id == "__import__":
                names = ["__import__"]
            for name in names:
                if name == "url_open" or name == "__import__" or name == "urllib" or any(
                        name == bad or name.startswith(bad + ".") for bad in NETWORK_MODULES):
                    offenders.append(f"{os.path.relpath(path, PACKAGE)}:{node.lineno}: {name}")
    assert offenders == []


def test_the_extension_asks_only_for_file_access():
    with open(os.path.join(PACKAGE, "blender_manifest.toml"), "rb") as stream:
        manifest = tomllib.load(stream)
    assert set(manifest["permissions"]) == {"files"}
    assert manifest["permissions"]["files"].strip()


HOSTILE_NAMES = [
    "../../x.obj", "..\\..\\x.obj", "/etc/passwd.obj", "...obj", "..obj", ".obj", " .obj", ". .obj",
    "a/b/../../../x.obj", "x.obj", "X.obj", "sub/x.obj", "x-2.obj", "con:aux.obj", "tab\tname.obj",
    "new\nline.obj", "nul\x00.obj".replace("\x00", "\x01"), "café.obj",
    unicodedata.normalize("NFD", "café.obj"), "日本.obj", "a" * 300 + ".obj", "*?<>|.obj", "~.obj", "-.obj",
]


def test_output_names_stay_inside_out_and_never_collide():
    names = output_folder_names(HOSTILE_NAMES)
    assert len(set(name.casefold() for name in names)) == len(HOSTILE_NAMES)
    for name in names:
        assert name not in ("", ".", "..") and not name.startswith((".", " "))
        assert "/" not in name and "\\" not in name and "\x00" not in name
        assert not any(ord(c) < 32 for c in name), repr(name)
        assert len(name.encode()) <= 255, len(name.encode())
        assert os.path.dirname(os.path.normpath(os.path.join("/out", name))) == "/out"
    assert sanitized_name("../../x.obj") == "x"


bpy_marks = pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="needs bpy")


@bpy_marks
def test_hostile_input_names_write_only_their_own_folder_inside_out(tmp_path, capfd):
    from make_corpus import box_mesh, obj_bytes

    from depth_views.cli import main

    vertices, faces = box_mesh()
    inputs = []
    for folder, name in [("a/b", "..\\..\\x.obj"), ("a/b", "...hidden.obj"), ("a", "x.obj"), ("a/b", "x.obj"),
                         ("c", "X.obj"), ("c", "x-2.obj"), ("c", ".hidden.obj"), ("c", "-rf.obj")]:
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / name).write_bytes(obj_bytes(vertices, faces))
        inputs.append(str(tmp_path / folder / name))
    inputs.append(str(tmp_path / "a" / "b" / ".." / ".." / "a" / "x.obj"))  # the same file again
    before = {os.path.join(root, f) for root, _, files in os.walk(tmp_path) for f in files}
    out = tmp_path / "out"
    assert main(["render", *inputs, "--out", str(out), "--resolution", "32", "32", "--views", "1",
                 "--quiet"]) == 0
    after = {os.path.join(root, f) for root, _, files in os.walk(tmp_path) for f in files}
    assert all(path.startswith(str(out) + os.sep) for path in after - before)
    folders = sorted(os.listdir(out))
    assert len(folders) == len(inputs) and folders == sorted(output_folder_names(inputs))
    for folder in folders:
        assert sorted(os.listdir(out / folder / "depth")) == ["0000.exr"]


@bpy_marks
def test_an_output_folder_that_is_a_symlink_is_not_written_through(tmp_path, capfd):
    from make_corpus import box_mesh, obj_bytes

    from depth_views.cli import main

    (tmp_path / "in.obj").write_bytes(obj_bytes(*box_mesh()))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out").mkdir()
    os.symlink(elsewhere, tmp_path / "out" / "in")
    code = main(["render", str(tmp_path / "in.obj"), "--out", str(tmp_path / "out"), "--resolution", "32",
                 "32", "--views", "1", "--quiet"])
    assert code == 1 and os.listdir(elsewhere) == []
    assert "symbolic link" in capfd.readouterr().err


@bpy_marks
def test_a_blend_with_a_startup_script_and_a_driver_runs_neither(tmp_path):
    """Auto-run is switched ON first, as a trusting user might have it; neither trap may fire."""
    import bpy

    from depth_views.cli import main

    script_marker, driver_marker = tmp_path / "script-ran", tmp_path / "driver-ran"
    blend = tmp_path / "trap.blend"
    bpy.ops.wm.read_factory_settings(use_empty=True)
    mesh = bpy.data.meshes.new("box")
    from make_corpus import box_mesh
    vertices, faces = box_mesh()
    mesh.from_pydata(vertices.tolist(), [], faces.tolist())
    obj = bpy.data.objects.new("box", mesh)
    bpy.context.scene.collection.objects.link(obj)
    text = bpy.data.texts.new("startup.py")
    text.write(f"open({str(script_marker)!r}, 'w').write('ran')\n")
    text.use_module = True  # "Register": runs when the file is loaded with auto-run trusted
    driver = obj.driver_add("location", 2).driver
    driver.type = "SCRIPTED"
    driver.expression = f"len(open({str(driver_marker)!r}, 'w').write('ran')) * 0"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    bpy.ops.wm.read_factory_settings(use_empty=True)
    for marker in (script_marker, driver_marker):
        if marker.exists():
            marker.unlink()

    bpy.context.preferences.filepaths.use_scripts_auto_execute = True
    try:
        assert main(["render", str(blend), "--out", str(tmp_path / "out"), "--resolution", "32", "32",
                     "--views", "2", "--quiet"]) == 0
    finally:
        bpy.context.preferences.filepaths.use_scripts_auto_execute = False
    assert not script_marker.exists(), "the registered text block ran"
    assert not driver_marker.exists(), "the driver's Python expression ran"

    # The traps are real: opened trusting scripts, both fire.
    bpy.ops.wm.open_mainfile(filepath=str(blend), load_ui=False, use_scripts=True)
    bpy.context.scene.frame_set(2)
    bpy.context.view_layer.update()
    assert script_marker.exists() and driver_marker.exists(), "the traps do not work: this test proves nothing"
