"""Packaging: the manifest is complete, the extension zip builds, validates with Blender's own tool
and installs into the bpy module's user extensions; the legacy zip has the Blender 3.x layout.  Both
are built from what git tracks: a checkout holding virtual environments and stray folders
(``cluttered_checkout`` in conftest.py) ships none of them, and neither pytest nor the shipped-file
checks look into them."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile

import pytest

from docs_blocks import docs_block
from repo import ROOT

PLATFORM_TAGS = {"linux-x64": "manylinux", "macos-arm64": "macosx_11_0_arm64", "macos-x64": "_x86_64.whl",
                 "windows-x64": "win_amd64"}


def _manifest() -> dict:
    with open(os.path.join(ROOT, "blender_manifest.toml"), "rb") as stream:
        return tomllib.load(stream)


def _clutter_names() -> list[str]:
    from checkout import CLUTTER

    return list(CLUTTER)


def _run_docs_build(command: str, checkout) -> subprocess.CompletedProcess:
    """A build command of docs/addon.md as written there, in ``checkout`` (``python`` = this Python)."""
    command = command.strip()
    assert command.startswith("python tools/build_extension.py")
    return subprocess.run([sys.executable, *command.split()[1:]], cwd=checkout, capture_output=True, text=True,
                          timeout=600)


def _build_tool(root):
    spec = importlib.util.spec_from_file_location("build_extension", os.path.join(root, "tools", "build_extension.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_legacy_zip_of_a_cluttered_checkout_holds_only_tracked_files(cluttered_checkout):
    built = _run_docs_build(docs_block("docs/addon.md", "legacy"), cluttered_checkout)
    assert built.returncode == 0, built.stderr
    with zipfile.ZipFile(cluttered_checkout / "dist" / f"depth_views-{_manifest()['version']}-legacy.zip") as archive:
        names = {n.removeprefix("depth_views/") for n in archive.namelist()}
    tracked = subprocess.run(["git", "-C", str(cluttered_checkout), "ls-files"], capture_output=True, text=True)
    assert names <= set(tracked.stdout.split()) and {"__init__.py", "operators/__init__.py"} <= names
    assert "render/shaders/lens_camera.osl" in names   # the lens camera's shader (package data)
    for clutter in _clutter_names():  # each exists on disk, none ships
        assert (cluttered_checkout / clutter).is_file() and clutter not in names
    assert not any(n.startswith((".venv", "venv/", "env/", "scratch/", "tests/", "docs/")) for n in names)


def test_outside_git_the_package_folders_of_pyproject_are_packed(cluttered_checkout, tmp_path, capsys):
    """An unpacked source archive (no .git): the fallback list is the same as git's for a clean tree."""
    tool = _build_tool(cluttered_checkout)
    manifest = tool.read_manifest(str(cluttered_checkout))
    from_git = tool.package_files(manifest, str(cluttered_checkout))
    plain = tmp_path / "unpacked"
    shutil.copytree(cluttered_checkout, plain, ignore=shutil.ignore_patterns(".git", ".venv", "venv", "env", "scratch"))
    os.remove(plain / "operators" / "untracked_helper.py")
    assert sorted(tool.package_files(manifest, str(plain))) == sorted(from_git)
    assert "not a git" in capsys.readouterr().err


def test_manifest_is_filled_in():
    manifest = _manifest()
    for key in ("id", "version", "name", "tagline", "maintainer", "type", "license", "blender_version_min"):
        assert manifest.get(key), f"blender_manifest.toml has no {key}"
    assert manifest["id"] == "depth_views" and manifest["type"] == "add-on"
    assert re.fullmatch(r".+ <[^>]+@[^>]+>", manifest["maintainer"])
    assert list(manifest["permissions"]) == ["files"] and len(manifest["permissions"]["files"]) > 10
    wheels = [os.path.basename(w) for w in manifest["wheels"]]
    for package in ("openexr", "pillow"):
        ours = [w for w in wheels if w.startswith(package + "-")]
        for platform in manifest["platforms"]:
            tag = PLATFORM_TAGS[platform]
            found = [w for w in ours if tag in w and (platform != "macos-x64" or "macosx" in w)]
            assert len(found) == 1, f"{package}: one wheel for {platform} expected, found {found}"
        assert all("cp311-cp311" in w for w in ours)  # Blender 4.2 .. 5.0 run Python 3.11
    assert "numpy" not in " ".join(wheels)  # Blender ships numpy


def test_legacy_bl_info_is_present_for_blender_3():
    source = open(os.path.join(ROOT, "__init__.py"), encoding="utf-8").read()
    assert "bl_info" in source and '"blender": (3, 4, 0)' in source


def _collected(checkout, *arguments) -> str:
    collected = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", *arguments],
                               cwd=checkout, capture_output=True, text=True, timeout=300)
    assert collected.returncode in (0, 5), collected.stdout[-3000:] + collected.stderr[-3000:]  # 5: none found
    return collected.stdout


def test_pytest_never_collects_from_untracked_folders(cluttered_checkout):
    """``pytest .`` in a checkout holding .venv/, venv/, env/ (each with a failing test) collects none of
    them; the README's ``python -m pytest`` only looks in tests/ (testpaths).  tests/ itself is left
    out here (its collection imports every test module); the second run proves the check can fail."""
    assert "test_clutter" not in _collected(cluttered_checkout, ".", "--ignore=tests")
    unguarded = _collected(cluttered_checkout, ".", "--ignore=tests", "-o", "norecursedirs=.*")
    assert "venv/test_clutter.py" in unguarded and "env/test_clutter.py" in unguarded
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as stream:
        assert tomllib.load(stream)["tool"]["pytest"]["ini_options"]["testpaths"] == ["tests"]


@pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="blender_ext.py ships inside the bpy module")
def test_extension_zip_builds_validates_and_installs_into_user_extensions(cluttered_checkout, tmp_path):
    """docs/addon.md's build command, in the cluttered copy (its wheels/ links to this checkout's,
    so the wheels are downloaded once)."""
    os.makedirs(os.path.join(ROOT, "wheels"), exist_ok=True)
    if not (cluttered_checkout / "wheels").exists():
        os.symlink(os.path.join(ROOT, "wheels"), cluttered_checkout / "wheels")
    built = _run_docs_build(docs_block("docs/addon.md", "build"), cluttered_checkout)
    assert built.returncode == 0, built.stderr
    extension = cluttered_checkout / "dist" / f"depth_views-{_manifest()['version']}.zip"
    legacy = cluttered_checkout / "dist" / f"depth_views-{_manifest()['version']}-legacy.zip"
    with zipfile.ZipFile(extension) as archive:
        names = set(archive.namelist())
    assert {"blender_manifest.toml", "__init__.py", "operators/__init__.py", "exr_io/plain_exr.py",
            "render/shaders/lens_camera.osl"} <= names
    assert not any(n.startswith(("tests/", "tools/", ".git")) or "__pycache__" in n for n in names)
    assert not set(_clutter_names()) & names and not any(n.startswith((".venv", "venv/", "env/")) for n in names)
    assert {os.path.basename(w) for w in _manifest()["wheels"]} == {n[7:] for n in names if n.startswith("wheels/")}
    with zipfile.ZipFile(legacy) as archive:
        legacy_names = set(archive.namelist())
    assert "depth_views/__init__.py" in legacy_names and all(n.startswith("depth_views/") for n in legacy_names)
    assert not any("/wheels/" in n for n in legacy_names)
    # our reading of the manifest's exclude patterns agrees with Blender's build tool
    assert {n.removeprefix("depth_views/") for n in legacy_names} == {n for n in names if not n.startswith("wheels/")}

    script = f"""
import os, sys, bpy
result = bpy.ops.extensions.package_install_files(filepath={str(extension)!r}, repo="user_default",
                                                   enable_on_install=True)
assert result == {{"FINISHED"}}, result
assert "bl_ext.user_default.depth_views" in sys.modules
assert hasattr(bpy.ops.depth_views, "render") and hasattr(bpy.types.Scene, "depth_views")
site = os.path.join(os.environ["BLENDER_USER_RESOURCES"], "extensions", ".local", "lib",
                    "python3.11", "site-packages")
installed = os.listdir(site)
assert any(n.startswith("OpenEXR") for n in installed) and "PIL" in installed, installed
print("INSTALLED OK")
"""
    environment = {**os.environ, "BLENDER_USER_RESOURCES": str(tmp_path / "user")}
    installed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                               env=environment, cwd=tmp_path)
    assert "INSTALLED OK" in installed.stdout, installed.stdout[-3000:] + installed.stderr[-3000:]
