"""Build the Blender extension zip (Blender 4.2+) and the legacy add-on zip (Blender 3.x), and
validate the extension with Blender's own tool.

    python tools/build_extension.py [--out dist] [--blender-ext PATH] [--skip-wheels]

Only files git tracks are packed (``git ls-files``): a virtual environment, a scratch folder or any
other untracked file in the checkout never ships.  Outside a git checkout (an unpacked source archive)
the package folders ``pyproject.toml`` lists and the root's own files are packed instead, and a line
says so.  The manifest's ``paths_exclude_pattern`` then drops what is not part of the add-on.

1. Downloads exactly the wheels ``blender_manifest.toml`` lists into ``./wheels/`` (from PyPI with
   ``pip download``; files already there are kept).  Wheels are never committed.
2. Copies the tracked files and the wheels into a temporary folder and runs ``blender_ext.py build``
   on that copy (it packs a whole folder) (shipped inside the ``bpy`` wheel, or a Blender install:
   ``<version>/scripts/addons_core/bl_pkg/cli/blender_ext.py``) and then ``blender_ext.py validate``
   on the zip it made.
3. Writes ``depth_views-<version>-legacy.zip``: the same files (no wheels) under a ``depth_views/``
   folder, the layout Blender 3.x's "Install Add-on" expects.  ``--legacy-only`` makes just this one
   (no bpy module needed).

Prints the two zip paths; exits non-zero, naming the step, when anything fails.
"""

from __future__ import annotations

import argparse
import fnmatch
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WHEEL_NAME = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)-(?P<python>[^-]+)-(?P<abi>[^-]+)-(?P<platform>[^-]+)\.whl$")


class BuildError(Exception):
    pass


def read_manifest(root: str = ROOT) -> dict:
    with open(os.path.join(root, "blender_manifest.toml"), "rb") as stream:
        return tomllib.load(stream)


def download_wheels(manifest: dict, root: str = ROOT) -> list[str]:
    """Fetch each wheel the manifest lists (exact name, version and platform) into ``root``/wheels."""
    paths = []
    for entry in manifest.get("wheels", []):
        path = os.path.normpath(os.path.join(root, entry))
        paths.append(path)
        if os.path.isfile(path):
            continue
        match = WHEEL_NAME.match(os.path.basename(path))
        if not match:
            raise BuildError(f"blender_manifest.toml: {entry!r} is not a wheel file name")
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                   f"{match['name']}=={match['version']}", "--python-version", match["python"].removeprefix("cp"),
                   "--implementation", "cp", "--abi", match["abi"], "--dest", os.path.dirname(path)]
        for platform in match["platform"].split("."):
            command += ["--platform", platform]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 or not os.path.isfile(path):
            raise BuildError(f"downloading {os.path.basename(path)} failed:\n{result.stderr.strip()[-2000:]}")
    return paths


def find_blender_ext() -> str:
    """``blender_ext.py`` from the installed ``bpy`` module (found without importing bpy)."""
    import importlib.util

    spec = importlib.util.find_spec("bpy")
    roots = list(spec.submodule_search_locations or []) if spec else []
    for root in roots:
        found = sorted(glob.glob(os.path.join(root, "*", "scripts", "addons_core", "bl_pkg", "cli", "blender_ext.py")))
        if found:
            return found[-1]
    raise BuildError("cannot find blender_ext.py: install the bpy module (pip install bpy) or pass --blender-ext")


def run_blender_ext(blender_ext: str, *arguments: str, cwd: str = ROOT) -> str:
    result = subprocess.run([sys.executable, blender_ext, *arguments], capture_output=True, text=True, cwd=cwd)
    if result.returncode != 0:
        raise BuildError(f"blender_ext.py {arguments[0]} failed:\n{(result.stdout + result.stderr).strip()[-3000:]}")
    return result.stdout


def _excluded(relative: str, is_dir: bool, patterns: list[str]) -> bool:
    """``paths_exclude_pattern`` semantics: ``/x`` is rooted, ``x/`` matches folders only, globs allowed."""
    parts = relative.split("/")
    for pattern in patterns:
        folder_only = pattern.endswith("/")
        body = pattern.strip("/")
        if pattern.startswith("/"):
            if fnmatch.fnmatchcase(relative, body) and (is_dir or not folder_only):
                return True
        elif any(fnmatch.fnmatchcase(part, body) for part in (parts[:-1] if not is_dir else parts)) or (
                fnmatch.fnmatchcase(parts[-1], body) and (is_dir or not folder_only)):
            return True
    return False


def tracked_files(root: str = ROOT) -> list[str]:
    """The files of the checkout at ``root`` that git tracks (relative, ``/``-separated, existing on disk).

    Not a git checkout (or no git): the package folders ``pyproject.toml`` lists (``[tool.setuptools]
    packages``) and the files directly in ``root``, with a line on stderr saying so.
    """
    try:
        listed = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached"], capture_output=True,
                                timeout=60)
    except (OSError, subprocess.SubprocessError) as error:
        reason = f"git did not run ({error})"
    else:
        top = subprocess.run(["git", "-C", root, "rev-parse", "--show-prefix"], capture_output=True, text=True)
        if listed.returncode == 0 and top.returncode == 0 and top.stdout.strip() == "":
            names = sorted(n.decode("utf-8", "surrogateescape") for n in listed.stdout.split(b"\0") if n)
            return [n for n in names if os.path.isfile(os.path.join(root, n))]
        reason = (listed.stderr.decode(errors="replace").strip().splitlines() or ["not the top of a git checkout"])[0]
    print(f"build_extension: {root}: {reason}; packing the package folders pyproject.toml lists instead",
          file=sys.stderr)
    return allowlisted_files(root)


def allowlisted_files(root: str = ROOT) -> list[str]:
    """The files directly in ``root`` and in the package folders ``pyproject.toml`` lists (the fallback
    of ``tracked_files`` outside a git checkout)."""
    try:
        with open(os.path.join(root, "pyproject.toml"), "rb") as stream:
            setuptools = tomllib.load(stream)["tool"]["setuptools"]
        # package-dir maps the top package to the root, so "depth_views.batch" lives in batch/
        folders = sorted(p.split(".", 1)[1].replace(".", "/") for p in setuptools["packages"] if "." in p)
        folders = [f for f in folders if not any(f.startswith(other + "/") for other in folders)]  # walked whole
    except (OSError, KeyError, tomllib.TOMLDecodeError) as error:
        raise BuildError(f"{root} is not a git checkout and its pyproject.toml lists no packages ({error})")
    files = sorted(name for name in os.listdir(root) if os.path.isfile(os.path.join(root, name)))
    for top in folders:
        for folder, subfolders, names in os.walk(os.path.join(root, top)):
            subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
            relative = os.path.relpath(folder, root).replace(os.sep, "/")
            files += [f"{relative}/{name}" for name in sorted(names)]
    return files


def package_files(manifest: dict, root: str = ROOT) -> list[str]:
    """The source files that go into the add-on (relative paths): the tracked files (``tracked_files``)
    that the manifest's exclude patterns keep."""
    patterns = manifest.get("build", {}).get("paths_exclude_pattern", [])
    return [relative for relative in tracked_files(root) if not relative.startswith("wheels/")
            and not any(_excluded("/".join(relative.split("/")[:depth]), True, patterns)
                        for depth in range(1, relative.count("/") + 1))
            and not _excluded(relative, False, patterns)]


def staged_source(manifest: dict, staging: str, root: str = ROOT) -> str:
    """Copy the tracked files and the manifest's wheels into ``staging``; returns it.  ``blender_ext.py
    build`` packs a whole folder (minus the exclude patterns), so it is given this copy, never the checkout."""
    for relative in tracked_files(root) + [os.path.normpath(w).replace(os.sep, "/") for w in manifest.get("wheels", [])]:
        target = os.path.join(staging, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(root, relative), target)
    return staging


def legacy_zip(output: str, manifest: dict, root: str = ROOT) -> str:
    """The add-on's files under ``<id>/`` (the layout Blender 3.x's "Install Add-on" expects).

    No wheels: Blender 3.x does not install them, and its own OpenEXR library clashes with the
    wheel's anyway (the add-on uses its plain EXR fallback there, see exr_io/_backend.py).
    """
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for relative in package_files(manifest, root):
            target.write(os.path.join(root, relative), f"{manifest['id']}/{relative}")
    return output


def build(out_dir: str, blender_ext: str | None = None, skip_wheels: bool = False,
          legacy_only: bool = False, root: str = ROOT) -> tuple[str | None, str]:
    manifest = read_manifest(root)
    os.makedirs(out_dir, exist_ok=True)
    legacy = os.path.join(os.path.abspath(out_dir), f"{manifest['id']}-{manifest['version']}-legacy.zip")
    legacy_zip(legacy, manifest, root)
    if legacy_only:
        return None, legacy
    if not skip_wheels:
        download_wheels(manifest, root)
    blender_ext = blender_ext or find_blender_ext()
    extension = os.path.join(os.path.abspath(out_dir), f"{manifest['id']}-{manifest['version']}.zip")
    if os.path.exists(extension):
        os.remove(extension)
    with tempfile.TemporaryDirectory(prefix="depth-views-build-") as staging:
        try:
            staged_source(manifest, staging, root)
        except OSError as error:
            raise BuildError(f"copying the tracked files failed: {error}")
        run_blender_ext(blender_ext, "build", "--source-dir", staging, "--output-filepath", extension, cwd=staging)
    run_blender_ext(blender_ext, "validate", extension)
    return extension, legacy


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "dist"), help="output folder (default dist/)")
    parser.add_argument("--blender-ext", help="path of blender_ext.py (default: the one in the bpy module)")
    parser.add_argument("--skip-wheels", action="store_true", help="do not download the manifest's wheels")
    parser.add_argument("--legacy-only", action="store_true",
                        help="only the Blender 3.x add-on zip (needs no bpy module and no download)")
    parser.add_argument("--source", default=ROOT, help="the checkout to pack (default: the one holding this script)")
    args = parser.parse_args(argv)
    try:
        extension, legacy = build(args.out, args.blender_ext, args.skip_wheels, args.legacy_only,
                                  os.path.abspath(args.source))
    except BuildError as error:
        print(f"build_extension: {error}", file=sys.stderr)
        return 1
    if extension:
        print(f"extension: {extension}")
    print(f"legacy add-on (Blender 3.x): {legacy}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
