"""Build the Blender extension zip (Blender 4.2+) and the legacy add-on zip (Blender 3.x), and
validate the extension with Blender's own tool.

    python tools/build_extension.py [--out dist] [--blender-ext PATH] [--skip-wheels]

1. Downloads exactly the wheels ``blender_manifest.toml`` lists into ``./wheels/`` (from PyPI with
   ``pip download``; files already there are kept).  Wheels are never committed.
2. Runs ``blender_ext.py build`` (shipped inside the ``bpy`` wheel, or a Blender install:
   ``<version>/scripts/addons_core/bl_pkg/cli/blender_ext.py``) and then ``blender_ext.py validate``
   on the zip it made.
3. Writes ``depth_views-<version>-legacy.zip``: the same files under a ``depth_views/`` folder, the
   layout Blender 3.x's "Install Add-on" expects.

Prints the two zip paths; exits non-zero, naming the step, when anything fails.
"""

from __future__ import annotations

import argparse
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


def legacy_zip(extension_zip: str, output: str, package: str) -> str:
    """Copy ``extension_zip``'s files under ``package/`` (Blender 3.x add-on zip layout).

    The wheels are left out: Blender 3.x does not install them, and its own OpenEXR library clashes
    with the wheel's anyway (the add-on uses its plain EXR fallback there, see exr_io/_backend.py).
    """
    with zipfile.ZipFile(extension_zip) as source, zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if not info.is_dir() and not info.filename.startswith("wheels/"):
                target.writestr(f"{package}/{info.filename}", source.read(info))
    return output


def build(out_dir: str, blender_ext: str | None = None, skip_wheels: bool = False) -> tuple[str, str]:
    manifest = read_manifest()
    if not skip_wheels:
        download_wheels(manifest)
    blender_ext = blender_ext or find_blender_ext()
    os.makedirs(out_dir, exist_ok=True)
    extension = os.path.join(os.path.abspath(out_dir), f"{manifest['id']}-{manifest['version']}.zip")
    if os.path.exists(extension):
        os.remove(extension)
    run_blender_ext(blender_ext, "build", "--source-dir", ROOT, "--output-filepath", extension)
    run_blender_ext(blender_ext, "validate", extension)
    legacy = legacy_zip(extension, extension.replace(".zip", "-legacy.zip"), manifest["id"])
    return extension, legacy


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "dist"), help="output folder (default dist/)")
    parser.add_argument("--blender-ext", help="path of blender_ext.py (default: the one in the bpy module)")
    parser.add_argument("--skip-wheels", action="store_true", help="do not download the manifest's wheels")
    args = parser.parse_args(argv)
    try:
        extension, legacy = build(args.out, args.blender_ext, args.skip_wheels)
    except BuildError as error:
        print(f"build_extension: {error}", file=sys.stderr)
        return 1
    print(f"extension: {extension}\nlegacy add-on (Blender 3.x): {legacy}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
