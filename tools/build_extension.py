"""Build the Blender extension zip (Blender 4.2+) and the legacy add-on zip (Blender 3.x), and
validate the extension with Blender's own tool.

    python tools/build_extension.py [--out dist] [--blender-ext PATH] [--skip-wheels]

1. Downloads exactly the wheels ``blender_manifest.toml`` lists into ``./wheels/`` (from PyPI with
   ``pip download``; files already there are kept).  Wheels are never committed.
2. Runs ``blender_ext.py build`` (shipped inside the ``bpy`` wheel, or a Blender install:
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
import subprocess
import sys
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


def run_blender_ext(blender_ext: str, *arguments: str) -> str:
    result = subprocess.run([sys.executable, blender_ext, *arguments], capture_output=True, text=True, cwd=ROOT)
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


def package_files(manifest: dict, root: str = ROOT) -> list[str]:
    """The source files that go into the add-on (relative paths), by the manifest's exclude patterns."""
    patterns = manifest.get("build", {}).get("paths_exclude_pattern", [])
    files = []
    for folder, subfolders, names in os.walk(root):
        relative_folder = os.path.relpath(folder, root).replace(os.sep, "/")
        prefix = "" if relative_folder == "." else relative_folder + "/"
        subfolders[:] = sorted(d for d in subfolders if not _excluded(prefix + d, True, patterns))
        files += [prefix + n for n in sorted(names) if not _excluded(prefix + n, False, patterns)]
    return [f for f in files if not f.startswith("wheels/")]


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
          legacy_only: bool = False) -> tuple[str | None, str]:
    manifest = read_manifest()
    os.makedirs(out_dir, exist_ok=True)
    legacy = os.path.join(os.path.abspath(out_dir), f"{manifest['id']}-{manifest['version']}-legacy.zip")
    legacy_zip(legacy, manifest)
    if legacy_only:
        return None, legacy
    if not skip_wheels:
        download_wheels(manifest)
    blender_ext = blender_ext or find_blender_ext()
    extension = os.path.join(os.path.abspath(out_dir), f"{manifest['id']}-{manifest['version']}.zip")
    if os.path.exists(extension):
        os.remove(extension)
    run_blender_ext(blender_ext, "build", "--source-dir", ROOT, "--output-filepath", extension)
    run_blender_ext(blender_ext, "validate", extension)
    return extension, legacy


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "dist"), help="output folder (default dist/)")
    parser.add_argument("--blender-ext", help="path of blender_ext.py (default: the one in the bpy module)")
    parser.add_argument("--skip-wheels", action="store_true", help="do not download the manifest's wheels")
    parser.add_argument("--legacy-only", action="store_true",
                        help="only the Blender 3.x add-on zip (needs no bpy module and no download)")
    args = parser.parse_args(argv)
    try:
        extension, legacy = build(args.out, args.blender_ext, args.skip_wheels, args.legacy_only)
    except BuildError as error:
        print(f"build_extension: {error}", file=sys.stderr)
        return 1
    if extension:
        print(f"extension: {extension}")
    print(f"legacy add-on (Blender 3.x): {legacy}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
