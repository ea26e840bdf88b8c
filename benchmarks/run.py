"""Depth Views benchmark: ours (CLI and in-memory API) against Embree ray casting and BlenderProc.

    python benchmarks/run.py            # the full table (see RESULTS.md for how long it takes)
    python benchmarks/run.py --quick    # a small subset in about two minutes

Run it with a Python that has ``bpy`` and ``depth_views`` (``pip install -e ".[blender,bench]"``).
Every measurement is a fresh process (start-up, imports and mesh loading are part of it), started
by this script, which records its wall time, peak RSS (``wait4``), the time to its first finished
view and the steady rate between its first and last view, and the load average around it.  The
systems of one configuration are measured back to back, in an order that rotates with each
repetition, so they see the same machine load; the table reports medians over repetitions and
each system's rate divided by the Embree reference's.

The reference rows need their own Pythons, found through options or environment variables; a row
whose Python or code is missing is skipped with the reason printed and kept in the JSON:

* Embree: a Python with ``trimesh`` and ``embreex`` (``--embree-python`` /
  ``DEPTH_VIEWS_BENCH_EMBREE_PYTHON``; default: this Python).
* BlenderProc: a Python with ``bpy`` 4.2 and BlenderProc's dependencies
  (``--blenderproc-python`` / ``DEPTH_VIEWS_BENCH_BLENDERPROC_PYTHON``) and a folder holding a
  checkout's ``blenderproc/`` package (``--blenderproc-dir`` / ``DEPTH_VIEWS_BENCH_BLENDERPROC``).

Exactness: for each mesh at the first resolution, our depth (API arrays and the CLI's EXR files)
is compared with Embree's on the same rays; the median difference must be below 1e-5 of the object
size (the diameter of its bounding sphere), or the run exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
WORKERS = os.path.join(HERE, "workers")
sys.path.insert(0, HERE)

from bench_meshes import MESHES, ensure_mesh, read_ply_vertices, scan_like, write_ply  # noqa: E402

from depth_views.cameras import Intrinsics, auto_radius, sample_views  # noqa: E402
from depth_views.exr_io import read_depth  # noqa: E402
from depth_views.options import clip_range  # noqa: E402

EXACTNESS_TOLERANCE = 1e-5          # median |ours - Embree| / object size
SYSTEMS = ("ours-cli", "ours-api", "embree", "blenderproc")
OPTIONAL_SYSTEMS = ("embree-2t", "ours-api-workbench", "ours-cli-gpu", "ours-batch")
QUICK = dict(meshes=["sphere_32k", "scan_5k"], resolutions=[512], views=[24], reps=2, batch=4)
FULL = dict(meshes=list(MESHES), resolutions=[256, 512, 1024], views=[24, 96], reps=3, batch=8)


# -- cameras -------------------------------------------------------------------------------------
def mesh_plan(path: str, resolution: int, n_views: int) -> dict:
    """Cameras exactly as ``depth-views render`` chooses them by default, as a job entry.

    Bounding-box centre, radius fitting the bounding sphere with a 10 % margin, fibonacci views,
    clip range from the extent (see ``depth_views.render.plan.plan_views``); the CLI is given the same numbers.
    """
    vertices = read_ply_vertices(path)
    box_min, box_max = vertices.min(axis=0), vertices.max(axis=0)
    center = 0.5 * (box_min + box_max)
    extent = float(np.linalg.norm(vertices - center, axis=1).max())
    intrinsics = Intrinsics(resolution, resolution)
    radius = auto_radius(extent, intrinsics, 1.1)
    clip_start, auto_far = clip_range(radius, extent)
    clip_end = max(auto_far, clip_start * 10)
    views = sample_views(sampling="fibonacci", n_views=n_views, center=center, radius=radius)
    return {"path": path, "width": resolution, "height": resolution, "lens_mm": intrinsics.lens_mm,
            "sensor_mm": intrinsics.sensor_mm, "K": intrinsics.K.tolist(), "center": center.tolist(),
            "radius": radius, "object_size": 2 * extent, "clip_start": clip_start, "clip_end": clip_end,
            "views": [v.to_json() for v in views]}


# -- running one measurement ---------------------------------------------------------------------
def run_process(command: list[str], *, env: dict | None = None, cwd: str | None = None,
                log_path: str) -> dict:
    """Run ``command``; return its exit status, wall and CPU time (s), peak RSS (MiB) and launch time."""
    with open(log_path, "w") as log:
        launched = time.time()
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
    return {"returncode": process.returncode, "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": usage.ru_maxrss / 1024, "launched": launched}


def tail(path: str, lines: int = 6) -> str:
    with open(path, errors="replace") as stream:
        return "".join(stream.readlines()[-lines:]).strip()


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = args.work_dir or tempfile.mkdtemp(prefix="depth-views-bench-")
        os.makedirs(self.work, exist_ok=True)
        self.mesh_dir = os.path.join(self.work, "meshes")
        self.rows: list[dict] = []
        self.skipped: dict[str, str] = {}
        self.counter = 0
        self.ours_env = dict(os.environ)

    # availability of each system -----------------------------------------------------------
    def probe(self, python: str | None, code: str, env: dict | None = None) -> str | None:
        """None when ``python -c code`` succeeds, else the reason (its last line of output)."""
        if not python:
            return "no Python given"
        if not os.path.exists(python):
            return f"{python}: no such interpreter"
        result = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env)
        if result.returncode == 0:
            return None
        return (result.stderr.strip().splitlines() or ["failed"])[-1]

    def check_systems(self, systems: list[str]) -> list[str]:
        args = self.args
        reasons = {}
        ours = self.probe(args.ours_python, "import bpy, depth_views.render.renderer")
        for name in ("ours-cli", "ours-api", "ours-api-workbench", "ours-cli-gpu", "ours-batch"):
            reasons[name] = ours and f"{args.ours_python} cannot render: {ours}"
        embree = self.probe(args.embree_python, "import trimesh, embreex")
        reasons["embree"] = reasons["embree-2t"] = embree and (
            f"Embree reference needs trimesh + embreex in {args.embree_python or 'a Python'} "
            f"(--embree-python / DEPTH_VIEWS_BENCH_EMBREE_PYTHON): {embree}")
        if not args.blenderproc_dir:
            reasons["blenderproc"] = ("BlenderProc reference: set DEPTH_VIEWS_BENCH_BLENDERPROC (or "
                                      "--blenderproc-dir) to a folder holding BlenderProc's blenderproc/ package")
        elif not os.path.isfile(os.path.join(args.blenderproc_dir, "blenderproc", "__init__.py")):
            reasons["blenderproc"] = f"BlenderProc reference: no blenderproc/__init__.py in {args.blenderproc_dir}"
        else:
            bp = self.probe(args.blenderproc_python, "import bpy, yaml, h5py, matplotlib, progressbar; "
                            "assert bpy.app.version[:2] == (4, 2), 'BlenderProc needs bpy 4.2, found ' + "
                            "bpy.app.version_string")
            reasons["blenderproc"] = bp and (
                f"BlenderProc reference needs a bpy 4.2 Python with its dependencies "
                f"(--blenderproc-python / DEPTH_VIEWS_BENCH_BLENDERPROC_PYTHON): {bp}")
        if "ours-cli-gpu" in systems and not reasons["ours-cli-gpu"]:
            gpu = self.probe(args.ours_python, "import bpy; from depth_views.render.renderer import enable_cycles_gpu; "
                             "print(enable_cycles_gpu())")
            reasons["ours-cli-gpu"] = gpu and f"no GPU for Cycles on this machine: {gpu}"
        available = []
        for name in systems:
            if reasons.get(name):
                self.skipped[name] = reasons[name]
                print(f"skipping {name}: {reasons[name]}", flush=True)
            else:
                available.append(name)
        return available

    # one measurement -----------------------------------------------------------------------
    def measure(self, system: str, items: list[dict], label: dict, *, save_dir: str | None = None,
                threads: int = 0, workers: int | None = None) -> dict:
        self.counter += 1
        run_dir = os.path.join(self.work, "runs", f"{self.counter:04d}-{system}")
        os.makedirs(run_dir, exist_ok=True)
        job = {"meshes": items, "save_dir": save_dir, "threads": threads,
               "blenderproc_dir": self.args.blenderproc_dir, "engine": "cycles"}
        env = dict(os.environ)
        if system == "ours-cli" or system == "ours-cli-gpu":
            command = self.cli_command(items, run_dir, gpu=system == "ours-cli-gpu")
        elif system == "ours-batch":
            command = self.batch_command(items, run_dir, workers)
        else:
            script, python = {
                "ours-api": ("ours_api.py", self.args.ours_python),
                "ours-api-workbench": ("ours_api.py", self.args.ours_python),
                "embree": ("embree_depth.py", self.args.embree_python),
                "embree-2t": ("embree_depth.py", self.args.embree_python),
                "blenderproc": ("blenderproc_depth.py", self.args.blenderproc_python),
            }[system]
            if system == "embree-2t":
                job["threads"] = 2
            if system == "ours-api-workbench":
                job["engine"] = "workbench"
            if system == "blenderproc":
                env["USE_EXTERNAL_BPY_MODULE"] = "1"
            job_path = os.path.join(run_dir, "job.json")
            with open(job_path, "w") as stream:
                json.dump(job, stream)
            command = [python, os.path.join(WORKERS, script), job_path, os.path.join(run_dir, "result.json")]
        load_before = os.getloadavg()[0]
        process = run_process(command, env=env, cwd=run_dir, log_path=os.path.join(run_dir, "log.txt"))
        row = {"system": system, **label, "threads": threads or None, "load_before": load_before,
               "load_after": os.getloadavg()[0], **process, "run_dir": run_dir}
        if process["returncode"] != 0:
            row["error"] = tail(os.path.join(run_dir, "log.txt"))
            print(f"  {system}: FAILED (exit {process['returncode']}): {row['error']}", flush=True)
            self.rows.append(row)
            return row
        if system.startswith(("ours-cli", "ours-batch")):
            view_times = sorted(self.cli_view_times(items, run_dir))
        else:
            with open(os.path.join(run_dir, "result.json")) as stream:
                result = json.load(stream)
            view_times = result["view_times"]
            row["worker"] = {k: v for k, v in result.items() if k not in ("view_times",)}
        n = len(view_times)
        row.update(self.rates(view_times, process["launched"], process["wall_s"]))
        row["cpu_ms_per_view"] = 1000 * process["cpu_s"] / n
        self.rows.append(row)
        print(f"  {system:18s} {n:4d} views  wall {process['wall_s']:6.2f} s  "
              f"{row['e2e_views_per_s']:6.2f} views/s end to end  {row['steady_views_per_s']:6.2f} views/s "
              f"steady  first view {row['first_view_s']:5.2f} s  RSS {process['peak_rss_mb']:6.0f} MiB  "
              f"load {load_before:.2f}", flush=True)
        return row

    @staticmethod
    def rates(view_times: list[float], launched: float, wall: float) -> dict:
        n = len(view_times)
        steady = (n - 1) / (view_times[-1] - view_times[0]) if n > 1 and view_times[-1] > view_times[0] else None
        return {"n_views": n, "first_view_s": view_times[0] - launched, "e2e_views_per_s": n / wall,
                "steady_views_per_s": steady, "ms_per_view": 1000 / steady if steady else None}

    def cli_command(self, items, run_dir, gpu=False):
        item = items[0]
        command = [self.args.ours_python, "-m", "depth_views", "render", *[i["path"] for i in items],
                   "--out", os.path.join(run_dir, "out"), "--views", str(len(item["views"])),
                   "--resolution", str(item["width"]), str(item["height"]), "--quiet"]
        if len(items) == 1:   # the CLI's own defaults give the same numbers; stated to be sure
            command += ["--radius", repr(item["radius"]), "--center", *map(repr, item["center"]),
                        "--clip-start", repr(item["clip_start"]), "--clip-end", repr(item["clip_end"])]
        if gpu:
            command += ["--device", "gpu"]
        return command

    def batch_command(self, items, run_dir, workers):
        """``depth-views batch`` over the folder holding ``items`` (and nothing else)."""
        folders = {os.path.dirname(i["path"]) for i in items}
        assert len(folders) == 1 and len(os.listdir(folders.pop())) == len(items)
        item = items[0]
        command = [self.args.ours_python, "-m", "depth_views", "batch", os.path.dirname(item["path"]),
                   "--out", os.path.join(run_dir, "out"), "--views", str(len(item["views"])),
                   "--resolution", str(item["width"]), str(item["height"]), "--quiet"]
        return command + (["--workers", str(workers)] if workers else [])

    @staticmethod
    def cli_view_times(items, run_dir) -> list[float]:
        """Modification times of the CLI's depth files, in render order (a file is complete when renamed)."""
        times = []
        for item in items:
            stem = os.path.splitext(os.path.basename(item["path"]))[0]
            folder = os.path.join(run_dir, "out", stem, "depth")
            times += sorted(os.stat(os.path.join(folder, name)).st_mtime for name in os.listdir(folder))
        return times

    def cleanup_run(self, row: dict) -> None:
        if not self.args.keep and row.get("run_dir") and "error" not in row:
            shutil.rmtree(os.path.join(row["run_dir"], "out"), ignore_errors=True)


# -- the schedule --------------------------------------------------------------------------------
def rotated(items: list, by: int) -> list:
    by %= len(items)
    return items[by:] + items[:by]


def summarize(rows: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        if "error" in row or row.get("kind") in ("exactness", "batch-part"):
            continue
        key = (row["kind"], row["mesh"], row["resolution"], row["views"], row["system"], row.get("layout", ""))
        groups.setdefault(key, []).append(row)

    def med(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    summary = []
    for (kind, mesh, resolution, views, system, layout), group in groups.items():
        summary.append({"kind": kind, "mesh": mesh, "resolution": resolution, "views": views, "system": system,
                        "layout": layout, "reps": len(group),
                        "steady_views_per_s": med(r["steady_views_per_s"] for r in group),
                        "e2e_views_per_s": med(r["e2e_views_per_s"] for r in group),
                        "ms_per_view": med(r["ms_per_view"] for r in group),
                        "cpu_ms_per_view": med(r.get("cpu_ms_per_view") for r in group),
                        "first_view_s": med(r["first_view_s"] for r in group),
                        "wall_s": med(r["wall_s"] for r in group),
                        "peak_rss_mb": med(r["peak_rss_mb"] for r in group),
                        "load": med(r["load_before"] for r in group)})
    by_config = {}
    for entry in summary:
        by_config.setdefault((entry["kind"], entry["mesh"], entry["resolution"], entry["views"]), {})[
            entry["system"] + entry["layout"]] = entry
    for entry in summary:
        reference = by_config[(entry["kind"], entry["mesh"], entry["resolution"], entry["views"])]
        for ref in ("embree", "blenderproc"):
            other = reference.get(ref)
            for rate in ("steady", "e2e"):
                key = f"{rate}_views_per_s"
                ok = other and entry[key] and other[key]
                entry[f"{rate}_vs_{ref}"] = entry[key] / other[key] if ok else None
    return summary


def fmt(value, spec=".1f", suffix=""):
    return "–" if value is None else f"{value:{spec}}{suffix}"


def markdown_table(summary: list[dict]) -> str:
    lines = ["| mesh | res | views | system | views/s steady | views/s end to end | ms/view | CPU ms/view "
             "| first view s | peak RSS MiB | ÷ Embree (steady / e2e) | ÷ BlenderProc (steady / e2e) | load |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for e in summary:
        system = e["system"] + (f" ({e['layout']})" if e["layout"] else "")
        lines.append(
            f"| {e['mesh']} | {e['resolution']}² | {e['views']} | {system} | {fmt(e['steady_views_per_s'])} "
            f"| {fmt(e['e2e_views_per_s'])} | {fmt(e['ms_per_view'], '.0f')} | {fmt(e['cpu_ms_per_view'], '.0f')} "
            f"| {fmt(e['first_view_s'], '.2f')} "
            f"| {fmt(e['peak_rss_mb'], '.0f')} "
            f"| {fmt(e['steady_vs_embree'], '.2f', '×')} / {fmt(e['e2e_vs_embree'], '.2f', '×')} "
            f"| {fmt(e['steady_vs_blenderproc'], '.2f', '×')} / {fmt(e['e2e_vs_blenderproc'], '.2f', '×')} "
            f"| {fmt(e['load'], '.2f')} |")
    return "\n".join(lines)


def exactness(bench: Bench, items: list[dict], systems: list[str]) -> list[dict]:
    """Compare ours (API arrays, CLI files) and BlenderProc with Embree on the same rays."""
    checks = []
    save = {name: os.path.join(bench.work, "exact", name)
            for name in ("embree", "ours-api", "ours-api-workbench", "blenderproc")}
    for folder in save.values():
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
    for item in items:
        mesh = os.path.splitext(os.path.basename(item["path"]))[0]
        label = {"kind": "exactness", "mesh": mesh, "resolution": item["width"], "views": len(item["views"])}
        runs = {system: bench.measure(system, [item], label, save_dir=save.get(system))
                for system in ("embree", "ours-api", "ours-api-workbench", "blenderproc", "ours-cli")
                if system in systems}
        cli_out = os.path.join(runs["ours-cli"]["run_dir"], "out", mesh, "depth") if "ours-cli" in runs else None
        for system in ("ours-api", "ours-cli", "ours-api-workbench", "blenderproc"):
            if system not in systems or "embree" not in systems:
                continue
            errors, mismatch = [], []
            for view in item["views"]:
                name = f"{mesh}_{view['index']:04d}.npy"
                embree_path = os.path.join(save["embree"], name)
                if system == "ours-cli":
                    path = os.path.join(cli_out, f"{view['index']:04d}.exr")
                    if not os.path.exists(path) or not os.path.exists(embree_path):
                        continue
                    ours = read_depth(path)
                else:
                    path = os.path.join(save[system], name)
                    if not os.path.exists(path) or not os.path.exists(embree_path):
                        continue
                    ours = np.load(path)
                reference = np.load(embree_path)
                ours = np.where(ours >= 1e9, np.inf, ours)     # BlenderProc keeps Blender's 1e10 background
                both = np.isfinite(ours) & np.isfinite(reference)
                errors.append(np.abs(ours[both].astype(np.float64) - reference[both]))
                mismatch.append(float(np.mean(np.isfinite(ours) != np.isfinite(reference))))
            if not errors:
                continue
            error = np.concatenate(errors) / item["object_size"]
            check = {"mesh": mesh, "resolution": item["width"], "system": system, "views": len(errors),
                     "median_rel_error": float(np.median(error)), "p99_rel_error": float(np.percentile(error, 99)),
                     "silhouette_mismatch": float(np.mean(mismatch)),
                     "passes": bool(np.median(error) < EXACTNESS_TOLERANCE)}
            if system in ("blenderproc", "ours-api-workbench"):
                check["passes"] = None   # informational: only our default (Cycles) path is held to it
            checks.append(check)
            print(f"  exactness {system:12s} vs embree on {mesh} {item['width']}²: median {check['median_rel_error']:.2e}"
                  f", p99 {check['p99_rel_error']:.2e} of the object size; hit/miss differ on a fraction "
                  f"{check['silhouette_mismatch']:.1e} of pixels", flush=True)
        if "ours-cli" in runs:
            bench.cleanup_run(runs["ours-cli"])
    return checks


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small subset (about two minutes)")
    parser.add_argument("--meshes", nargs="+", choices=MESHES)
    parser.add_argument("--resolutions", nargs="+", type=int)
    parser.add_argument("--views", nargs="+", type=int)
    parser.add_argument("--reps", type=int, help="repetitions of every measurement")
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS + OPTIONAL_SYSTEMS,
                        default=list(SYSTEMS) + list(OPTIONAL_SYSTEMS))
    parser.add_argument("--batch", type=int, help="meshes in the many-meshes run (0: skip it)")
    parser.add_argument("--ours-python", default=sys.executable)
    parser.add_argument("--embree-python", default=os.environ.get("DEPTH_VIEWS_BENCH_EMBREE_PYTHON", sys.executable))
    parser.add_argument("--blenderproc-python", default=os.environ.get("DEPTH_VIEWS_BENCH_BLENDERPROC_PYTHON"))
    parser.add_argument("--blenderproc-dir", default=os.environ.get("DEPTH_VIEWS_BENCH_BLENDERPROC"))
    parser.add_argument("--work-dir", help="where meshes and outputs go (default: a new temporary folder)")
    parser.add_argument("--json", default=os.path.join(HERE, "results", "latest.json"), help="results file")
    parser.add_argument("--markdown", help="also write the table here")
    parser.add_argument("--keep", action="store_true", help="keep every run's output files")
    args = parser.parse_args(argv)
    preset = QUICK if args.quick else FULL
    meshes = args.meshes or preset["meshes"]
    resolutions = args.resolutions or preset["resolutions"]
    view_counts = args.views or preset["views"]
    reps = args.reps or preset["reps"]
    batch = preset["batch"] if args.batch is None else args.batch

    started = time.time()
    bench = Bench(args)
    print(f"depth-views benchmark: work folder {bench.work}, load average {os.getloadavg()}", flush=True)
    systems = bench.check_systems(args.systems)
    paths = {name: ensure_mesh(name, bench.mesh_dir) for name in meshes}

    # exactness first: a wrong depth makes every speed number meaningless
    exact_items = [mesh_plan(paths[name], resolutions[0] if 512 not in resolutions else 512, 24) for name in meshes]
    print("exactness (ours and BlenderProc against Embree, same rays):", flush=True)
    checks = exactness(bench, exact_items, systems)

    timed = ([s for s in systems if s not in ("ours-cli-gpu", "ours-batch")]
             + (["ours-cli-gpu"] if "ours-cli-gpu" in systems else []))
    for name in meshes:
        for resolution in resolutions:
            for n_views in view_counts:
                item = mesh_plan(paths[name], resolution, n_views)
                label = {"kind": "single", "mesh": name, "resolution": resolution, "views": n_views}
                print(f"{name} {resolution}² {n_views} views:", flush=True)
                for rep in range(reps):
                    for system in rotated(timed, rep):
                        bench.cleanup_run(bench.measure(system, [item], label))

    if batch:
        # many meshes, 24 views each at 512²: one process for all of them (BlenderProc: one per mesh)
        folder = os.path.join(bench.mesh_dir, "batch")
        os.makedirs(folder, exist_ok=True)
        batch_paths = []
        for seed in range(batch):
            path = os.path.join(folder, f"scan_{seed:02d}.ply")
            if not os.path.exists(path):
                write_ply(path, *scan_like(seed=100 + seed))
            batch_paths.append(path)
        items = [mesh_plan(p, 512, 24) for p in batch_paths]
        label = {"kind": "batch", "mesh": f"{batch} scans", "resolution": 512, "views": 24 * batch}
        print(f"{batch} scan-like meshes, 24 views each at 512²:", flush=True)
        for rep in range(reps):
            for system in rotated([s for s in systems if s in ("ours-cli", "ours-api", "embree", "blenderproc")], rep):
                if system == "blenderproc":
                    row = measure_sequence(bench, system, items, label)
                    bench.rows.append(row)
                else:
                    bench.cleanup_run(bench.measure(system, items, label))
            for system, threads in (("ours-api", 1), ("ours-cli", 0)):
                if system in systems:
                    row = measure_layout(bench, system, items, label, threads=threads)
                    bench.rows.append(row)
            if "ours-batch" in systems:   # the batch command: 1 worker, and its default layout
                for workers in (1, None):
                    layout = f"{workers} worker" if workers else "default workers"
                    bench.cleanup_run(bench.measure("ours-batch", items, {**label, "layout": layout},
                                                    workers=workers))

    summary = summarize(bench.rows)
    table = markdown_table(summary)
    print("\n" + table)
    for check in checks:
        if check["passes"] is False:
            print(f"EXACTNESS FAILED: {check}", flush=True)
    document = {"command": " ".join([os.path.basename(sys.executable), "benchmarks/run.py", *(argv or sys.argv[1:])]),
                "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
                "duration_s": time.time() - started, "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                                                 "processor": platform.processor()},
                "load_average_end": os.getloadavg(), "skipped": bench.skipped, "exactness": checks,
                "summary": summary, "rows": bench.rows, "table": table}
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as stream:
        json.dump(document, stream, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as stream:
            stream.write(table + "\n")
    print(f"\nwrote {args.json} ({time.time() - started:.0f} s)", flush=True)
    if not args.work_dir and not args.keep:
        shutil.rmtree(bench.work, ignore_errors=True)
    return 1 if any(c["passes"] is False for c in checks) else 0


def measure_sequence(bench: Bench, system: str, items: list[dict], label: dict) -> dict:
    """One process per mesh, one after another; a single row for the whole sequence."""
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    rows = [bench.measure(system, [item], {**label, "kind": "batch-part"}) for item in items]
    wall = time.perf_counter() - started
    if any("error" in r for r in rows):
        return {"system": system, **label, "error": "a part failed", "load_before": load_before}
    n = sum(r["n_views"] for r in rows)
    return {"system": system, **label, "layout": "", "load_before": load_before, "wall_s": wall, "n_views": n,
            "e2e_views_per_s": n / wall, "steady_views_per_s": statistics.median(r["steady_views_per_s"] for r in rows),
            "ms_per_view": statistics.median(r["ms_per_view"] for r in rows),
            "cpu_ms_per_view": 1000 * sum(r["cpu_s"] for r in rows) / n,
            "first_view_s": rows[0]["first_view_s"], "peak_rss_mb": max(r["peak_rss_mb"] for r in rows)}


def measure_layout(bench: Bench, system: str, items: list[dict], label: dict, *, threads: int = 0) -> dict:
    """Process layout: two processes side by side, each on half the meshes (``threads`` render threads each)."""
    import threading

    halves = [items[0::2], items[1::2]]
    layout = f"2 processes x {threads or 'auto'} threads"
    load_before = os.getloadavg()[0]
    rows: list = [None, None]

    def one(i):
        rows[i] = bench.measure(system, halves[i], {**label, "kind": "batch-part"}, threads=threads)

    started = time.perf_counter()
    workers = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - started
    for row in rows:
        bench.cleanup_run(row)
    if any("error" in r for r in rows):
        return {"system": system, **label, "layout": layout, "error": "a part failed", "load_before": load_before}
    n = sum(r["n_views"] for r in rows)
    steady = sum(r["steady_views_per_s"] for r in rows)
    return {"system": system, **label, "layout": layout, "load_before": load_before, "wall_s": wall, "n_views": n,
            "e2e_views_per_s": n / wall, "steady_views_per_s": steady, "ms_per_view": 1000 / steady,
            "cpu_ms_per_view": 1000 * sum(r["cpu_s"] for r in rows) / n,
            "first_view_s": min(r["first_view_s"] for r in rows), "peak_rss_mb": sum(r["peak_rss_mb"] for r in rows)}


if __name__ == "__main__":
    sys.exit(main())
