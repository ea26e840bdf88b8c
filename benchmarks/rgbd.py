"""The whole RGB-D set on real textured assets: seconds per object and per view, peak RSS, PSNR.

Each asset (tests/assets.py: Debian sweethome3d-furniture OBJs, the Khronos models of the dracopy
sdist) is rendered by the CLI in a fresh process per setting, settings in rotating order so they see
the same machine load::

    depth-views render ASSET --views V --resolution R R --passes depth,normal,mask,rgb
                             --rgb-samples S [setting flags]

Settings: ``ours`` (this tree, its defaults), ``ours-no-denoise``, ``ours-white`` (``--rgb-lighting
white``, BlenderProc's lighting below), ``geometry`` (depth + normal + mask only) and, with
``--baseline REV``, ``baseline`` (the same command on ``git archive REV``, e.g. the tree before
issue 16).  With ``--blenderproc-python`` and ``--blenderproc-dir`` (or the environment variables of
benchmarks/run.py), BlenderProc renders the same four outputs in one render call with our cameras
(workers/blenderproc_rgbd.py).  Image quality: PSNR of each of our settings' colour (8-bit sRGB,
premultiplied over black) against a ``--reference-samples`` render of the first
``--reference-views`` views with the same cameras and default settings.

    python benchmarks/rgbd.py                                 # 5 assets x 12 views at 512², 32 samples
    python benchmarks/rgbd.py --resolution 256 --reference-samples 256 --baseline adda1d5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from run import run_process, tail  # noqa: E402

ASSETS = {  # name -> (source, path inside it)
    "oakChair": ("furniture", "oakChair"),
    "antiqueChair": ("furniture", "antiqueChair"),
    "rock2": ("furniture", "rock2"),
    "Duck": ("khronos", "KhronosSampleModels/Duck/glTF_Binary/Duck.glb"),
    "CesiumMilkTruck": ("khronos", "CesiumMilkTruck/glTF/CesiumMilkTruck.gltf"),
}
SETTINGS = {"ours": [], "ours-no-denoise": ["--no-denoise"], "ours-white": ["--rgb-lighting", "white"],
            "geometry": None, "baseline": [],
            "blenderproc": "blenderproc"}
SCORED = ("ours", "ours-no-denoise", "baseline")   # the reference's lighting; geometry has no colour


def asset_paths(names, folder) -> dict:
    """Extract the assets; ``{name: path}`` of those whose package is installed."""
    import assets  # tests/assets.py; its getters call pytest.skip when a package is missing

    found = {}
    for name in names:
        source, inner = ASSETS[name]
        try:
            found[name] = (assets.sweethome_furniture(inner, folder) if source == "furniture"
                           else assets.khronos_models(folder, [inner])[inner])
        except BaseException as skipped:  # pytest's Skipped
            print(f"skipping {name}: {skipped}", flush=True)
    return found


def baseline_tree(revision: str, work: str) -> str:
    """A PYTHONPATH folder holding ``depth_views`` as it was at ``revision``."""
    folder = os.path.join(work, f"baseline-{revision}")
    package = os.path.join(folder, "depth_views")
    if not os.path.isdir(package):
        os.makedirs(package)
        archive = subprocess.run(["git", "-C", ROOT, "archive", revision], check=True, capture_output=True).stdout
        subprocess.run(["tar", "x", "-C", package], input=archive, check=True)
    return folder


def srgb_premultiplied(path: str) -> np.ndarray:
    """(H, W, 4) floats 0..1: 8-bit sRGB premultiplied over black, and alpha."""
    from PIL import Image

    rgba = np.asarray(Image.open(path).convert("RGBA"), dtype=np.float64) / 255.0
    return np.concatenate([rgba[..., :3] * rgba[..., 3:], rgba[..., 3:]], axis=-1)


def psnr(image, reference) -> tuple[float, float]:
    """PSNR (dB, peak 1) of the colour over the whole frame, and over the pixels either image covers."""
    error = (image[..., :3] - reference[..., :3]) ** 2
    covered = (image[..., 3] > 0) | (reference[..., 3] > 0)
    values = []
    for mse in (float(np.mean(error)), float(np.mean(error[covered])) if covered.any() else 0.0):
        values.append(float("inf") if mse == 0 else float(10 * np.log10(1.0 / mse)))
    return values[0], values[1]


def score(rows, runs_root: str, views: int) -> None:
    """Fill ``psnr_db`` / ``psnr_object_db`` of ``rows`` from the PNGs under ``runs_root``/ASSET/SETTING."""
    for row in rows:
        if row["setting"] not in SCORED:
            row.pop("psnr_db", None)
            row.pop("psnr_object_db", None)
            continue
        folder = os.path.join(runs_root, row["asset"])
        stem = row.get("stem", row["asset"])
        values = []
        for i in range(views):
            reference = os.path.join(folder, "reference", "rgb", f"{i:04d}.png")
            if not os.path.isfile(reference):
                break
            values.append(psnr(srgb_premultiplied(os.path.join(folder, row["setting"], stem, "rgb", f"{i:04d}.png")),
                               srgb_premultiplied(reference)))
        if values:
            row["psnr_db"] = float(np.mean([v[0] for v in values]))
            row["psnr_object_db"] = float(np.mean([v[1] for v in values]))


REFERENCE_WORKER = """
import sys, json
from depth_views.inputs.scene_import import load_input
from depth_views.options import RenderOptions
from depth_views.render.job import RenderJob
from depth_views.resolved import resolve
path, out, views, res, samples, keep = sys.argv[1:7]
options = RenderOptions(views=int(views), resolution=(int(res), int(res)), passes=("depth", "rgb"),
                        rgb_samples=int(samples))
with RenderJob(load_input(path), out, resolve(options)) as job:
    job.plan.views = job.plan.views[:int(keep)]
    while not job.finished:
        job.step()
    job.finish()
"""


def run_blenderproc(args, name: str, ours_folder: str, path: str, out: str) -> list:
    """BlenderProc's four outputs in one render with the cameras of our run in ``ours_folder``."""
    with open(os.path.join(ours_folder, "cameras.json"), encoding="utf-8") as stream:
        cameras = json.load(stream)
    os.makedirs(out, exist_ok=True)
    item = {"path": path, "K": cameras["K"], "width": cameras["width"], "height": cameras["height"],
            "clip_start": cameras["clip_start"], "clip_end": cameras["clip_end"],
            "views": [{"index": v["index"], "camera_to_world": v["camera_to_world"]} for v in cameras["views"]]}
    job = {"meshes": [item], "blenderproc_dir": args.blenderproc_dir, "samples": args.samples, "save_dir": out}
    with open(os.path.join(out, "job.json"), "w", encoding="utf-8") as stream:
        json.dump(job, stream)
    load = os.getloadavg()[0]
    result = run_process([args.blenderproc_python, os.path.join(HERE, "workers", "blenderproc_rgbd.py"),
                          os.path.join(out, "job.json"), os.path.join(out, "result.json")],
                         env=dict(os.environ, USE_EXTERNAL_BPY_MODULE="1"), cwd=out,
                         log_path=os.path.join(out, "log.txt"))
    if result["returncode"] != 0:
        print(f"{name} blenderproc: FAILED {tail(os.path.join(out, 'log.txt'))}", flush=True)
        return []
    return [{"asset": name, "setting": "blenderproc", "load": load, "wall_s": result["wall_s"],
             "cpu_s": result["cpu_s"], "peak_rss_mb": result["peak_rss_mb"]}]


def print_table(rows, views: int) -> None:
    print("\n| asset | setting | s / object | s / view | CPU s / view | peak RSS MiB "
          "| PSNR dB (frame / object) | load |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        psnr_text = ("—" if row.get("psnr_db") is None
                     else f"{row['psnr_db']:.1f} / {row['psnr_object_db']:.1f}")
        print(f"| {row['asset']} | {row['setting']} | {row['wall_s']:.1f} | {row['wall_s'] / views:.2f} | "
              f"{row['cpu_s'] / views:.2f} | {row['peak_rss_mb']:.0f} | {psnr_text} | {row['load']:.1f} |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assets", nargs="+", default=list(ASSETS), choices=list(ASSETS))
    parser.add_argument("--views", type=int, default=12)
    parser.add_argument("--resolution", type=int, default=512)
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--reference-samples", type=int, default=1024)
    parser.add_argument("--reference-views", type=int, default=1)
    parser.add_argument("--settings", nargs="+", default=["ours", "ours-no-denoise", "geometry"],
                        choices=list(SETTINGS))
    parser.add_argument("--baseline", metavar="REV", help="also run the tree at git revision REV")
    parser.add_argument("--python", default=sys.executable, help="a Python with bpy (default: this one)")
    parser.add_argument("--blenderproc-python", default=os.environ.get("DEPTH_VIEWS_BENCH_BLENDERPROC_PYTHON"),
                        help="BlenderProc's Python (bpy 4.2 + its packages; benchmarks/requirements-blenderproc.txt)")
    parser.add_argument("--blenderproc-dir", default=os.environ.get("DEPTH_VIEWS_BENCH_BLENDERPROC"),
                        help="a folder holding BlenderProc's blenderproc/ package")
    parser.add_argument("--work-dir")
    parser.add_argument("--json", help="write every row here")
    parser.add_argument("--rescore", metavar="JSON", help="only recompute PSNR of a finished run's rows (with "
                                                          "its --work-dir and --reference-views); print the table")
    args = parser.parse_args(argv)
    if args.rescore:
        with open(args.rescore, encoding="utf-8") as stream:
            rows = json.load(stream)
        score(rows, os.path.join(args.work_dir, "runs"), args.reference_views)
        print_table(rows, args.views)
        return 0
    work = args.work_dir or tempfile.mkdtemp(prefix="depth-views-rgbd-")
    settings = list(args.settings) + (["baseline"] if args.baseline else [])
    with_blenderproc = bool(args.blenderproc_python and args.blenderproc_dir)
    if not with_blenderproc:
        print("skipping blenderproc: set DEPTH_VIEWS_BENCH_BLENDERPROC_PYTHON and DEPTH_VIEWS_BENCH_BLENDERPROC "
              "(see RESULTS.md)", flush=True)
    paths = asset_paths(args.assets, os.path.join(work, "assets"))
    ours_path = os.path.join(work, "ours")
    if not os.path.isdir(ours_path):
        os.makedirs(ours_path)
        os.symlink(ROOT, os.path.join(ours_path, "depth_views"))
    trees = {name: ours_path for name in settings}
    if args.baseline:
        trees["baseline"] = baseline_tree(args.baseline, work)
    rows = []
    print(f"# {args.views} views at {args.resolution}², rgb {args.samples} samples; reference "
          f"{args.reference_samples} samples; load at start {os.getloadavg()[0]:.2f}", flush=True)
    for number, (name, path) in enumerate(paths.items()):
        order = settings[number % len(settings):] + settings[:number % len(settings)]
        runs = {}
        for setting in order:
            out = os.path.join(work, "runs", name, setting)
            if setting == "blenderproc":
                continue
            flags = SETTINGS[setting]
            passes = "depth,normal,mask" if flags is None else "depth,normal,mask,rgb"
            command = [args.python, "-m", "depth_views", "render", path, "--out", out, "--views", str(args.views),
                       "--resolution", str(args.resolution), str(args.resolution), "--passes", passes,
                       "--rgb-samples", str(args.samples), "--quiet", *(flags or [])]
            env = dict(os.environ, PYTHONPATH=trees[setting])
            os.makedirs(out, exist_ok=True)
            load = os.getloadavg()[0]
            result = run_process(command, env=env, log_path=os.path.join(out, "log.txt"))
            if result["returncode"] != 0:
                print(f"{name} {setting}: FAILED {tail(os.path.join(out, 'log.txt'))}", flush=True)
                continue
            runs[setting] = os.path.join(out, os.path.splitext(os.path.basename(path))[0])
            rows.append({"asset": name, "stem": os.path.splitext(os.path.basename(path))[0], "setting": setting,
                         "load": load, "wall_s": result["wall_s"],
                         "cpu_s": result["cpu_s"], "peak_rss_mb": result["peak_rss_mb"]})
        ours_runs = [runs[s] for s in ("ours", "ours-white", "ours-no-denoise") if s in runs]
        if with_blenderproc and ours_runs:   # our cameras, from our run's cameras.json
            rows += run_blenderproc(args, name, ours_runs[0], path, os.path.join(work, "runs", name, "blenderproc"))
        reference = os.path.join(work, "runs", name, "reference")
        ref_result = run_process([args.python, "-c", REFERENCE_WORKER, path, reference, str(args.views),
                                  str(args.resolution), str(args.reference_samples), str(args.reference_views)],
                                 env=dict(os.environ, PYTHONPATH=ours_path), log_path=reference + ".log")
        if ref_result["returncode"] != 0:
            print(f"{name} reference: FAILED {tail(reference + '.log')}", flush=True)
        score([row for row in rows if row["asset"] == name], os.path.join(work, "runs"), args.reference_views)
        for row in rows:
            if row["asset"] == name:
                print(f"{name:16s} {row['setting']:16s} {row['wall_s']:7.1f} s/object "
                      f"{row['wall_s'] / args.views:6.2f} s/view  CPU {row['cpu_s'] / args.views:6.2f} s/view  "
                      f"RSS {row['peak_rss_mb']:5.0f} MiB  "
                      f"PSNR {row.get('psnr_db') or float('nan'):5.1f} dB (object "
                      f"{row.get('psnr_object_db') or float('nan'):5.1f} dB)  load {row['load']:.1f}", flush=True)
    print_table(rows, args.views)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump(rows, stream, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
