"""Folder layout vs WebDataset shards: files created, bytes per view, views/s written, samples/s read, peak RSS.

    python benchmarks/datasets_bench.py --meshes 1000 --views 24 --resolution 256
    python benchmarks/datasets_bench.py --meshes 200 --render-meshes 6      # what RESULTS.md quotes

Two parts, each phase in its own process (so each peak RSS is its own):

1. render: ``run_batch`` of ``--render-meshes`` real meshes (spheres, boxes, cylinders) in both
   layouts, end to end (needs bpy); its depth maps are the payload of part 2.
2. write + read: ``--meshes`` meshes x ``--views`` views, mesh i taking the rendered depth of real mesh
   i mod K (variants), written with the writers a render uses (OutputWriter: zip EXR + cameras.json +
   transforms.json per mesh; SampleWriter + ShardWriter: 1 GB shards), then read back with
   ``depth_views.datasets.DepthViews`` (both layouts) and with a plain ``webdataset`` loop.

Prints a table and the extrapolation to 1 M meshes; asserts nothing.  Without bpy, part 2 uses
analytic sphere depth maps.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def tree_stats(folder: str) -> tuple[int, int, int]:
    """(files, folders, bytes) under ``folder``."""
    files = folders = size = 0
    for root, subfolders, names in os.walk(folder):
        folders += len(subfolders)
        for name in names:
            files += 1
            size += os.path.getsize(os.path.join(root, name))
    return files, folders, size


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_real_meshes(folder: str, count: int) -> None:
    sys.path.insert(0, HERE)
    from batch_scale import make_meshes

    make_meshes(folder, count)


def phase_render(args) -> dict:
    from depth_views.batch import run_batch
    from depth_views.options import RenderOptions

    formats = ("webdataset",) if args.layout == "webdataset" else ("exr",)
    options = RenderOptions(views=args.views, resolution=(args.resolution, args.resolution), formats=formats)
    started = time.perf_counter()
    summary = run_batch(args.src, args.out, options, workers=args.workers)
    seconds = time.perf_counter() - started
    files, folders, size = tree_stats(args.out)
    return {"views": summary.views, "seconds": seconds, "files": files, "folders": folders, "bytes": size}


def payload_depths(args) -> list[np.ndarray]:
    """The rendered depth maps (views of K real meshes) from the folder-layout render, or spheres."""
    from depth_views.datasets import DepthViews

    if args.payload and os.path.isdir(args.payload):   # 24 x K views of 256 KB: a few MB of the RSS
        return [s["depth"] for s in DepthViews(args.payload)]
    size = args.resolution
    y, x = np.mgrid[0:size, 0:size] + 0.5
    depths = []
    for k in range(args.views):
        r2 = ((x - size / 2 - k) ** 2 + (y - size / 2) ** 2) / (0.4 * size) ** 2
        depths.append(np.where(r2 < 1, 2.0 - 0.5 * np.sqrt(np.clip(1 - r2, 0, 1)), np.inf).astype(np.float32))
    return depths


def phase_write(args) -> dict:
    from depth_views.batch import store
    from depth_views.batch.shard_store import ShardedOutput
    from depth_views.cameras.atomic_write import write_json_atomic
    from depth_views.cameras.cameras_json import CAMERAS_FILE, cameras_document
    from depth_views.cameras.nerfstudio import TRANSFORMS_FILE, transforms_document
    from depth_views.cameras.sphere import sample_views
    from depth_views.options import RenderOptions
    from depth_views.outputs.shards import SampleWriter
    from depth_views.outputs.writer import OutputWriter, planned_view_files

    depths = payload_depths(args)
    formats = ("webdataset",) if args.layout == "webdataset" else ("exr",)
    options = RenderOptions(views=args.views, resolution=(args.resolution, args.resolution), formats=formats)
    intrinsics = options.lens_intrinsics()
    views = sample_views(sampling="fibonacci", n_views=args.views, center=np.zeros(3), radius=2.5)
    os.makedirs(args.out, exist_ok=True)
    output = None
    if args.layout == "webdataset":
        output = ShardedOutput(args.out, store.Journal(os.path.join(args.out, "index.jsonl")))
    started = time.perf_counter()
    for mesh in range(args.meshes):
        name = f"mesh{mesh:06d}"
        if output is not None:
            writer = SampleWriter(options, intrinsics, args.views, units="m")
        else:
            folder = os.path.join(args.out, name)
            os.makedirs(os.path.join(folder, "depth"))
            writer = OutputWriter(folder, options, intrinsics, args.views, units="m")
        for view in views:
            writer.write_view(view, {"depth": depths[(mesh * args.views + view.index) % len(depths)]})
        files = [planned_view_files(v.index, args.views, options) for v in views]
        cameras = cameras_document(intrinsics, views, files, units="m", extra={"input": name + ".obj"})
        if output is not None:
            output.add(name, f"/data/{name}.obj", writer.members(name, f"/data/{name}.obj", cameras))
        else:
            write_json_atomic(os.path.join(folder, CAMERAS_FILE), cameras)
            write_json_atomic(os.path.join(folder, TRANSFORMS_FILE), transforms_document(intrinsics, views, files))
    if output is not None:
        output.close()
    seconds = time.perf_counter() - started
    files, folders, size = tree_stats(args.out)
    return {"views": args.meshes * args.views, "seconds": seconds, "files": files, "folders": folders,
            "bytes": size, "rss_mb": peak_rss_mb()}


def phase_read(args) -> dict:
    started = time.perf_counter()
    count = 0
    if args.reader == "ours":
        from depth_views.datasets import DepthViews

        for sample in DepthViews(args.out):
            count += sample["depth"].size > 0
    else:
        import webdataset

        from depth_views.outputs.shards import finished_shards

        for sample in webdataset.WebDataset(finished_shards(args.out), shardshuffle=False).decode():
            count += sample["depth.npz"]["depth"].size > 0
    seconds = time.perf_counter() - started
    return {"samples": count, "seconds": seconds, "rss_mb": peak_rss_mb()}


def run_phase(**settings) -> dict:
    command = [sys.executable, os.path.abspath(__file__), "--phase", settings.pop("phase")]
    for key, value in settings.items():
        command += [f"--{key.replace('_', '-')}", str(value)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meshes", type=int, default=1000)
    parser.add_argument("--views", type=int, default=24)
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--render-meshes", type=int, default=6, help="real renders (0: skip; needs bpy)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scratch", help="folder for the outputs (default: a temporary folder)")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--layout", help=argparse.SUPPRESS)
    parser.add_argument("--reader", help=argparse.SUPPRESS)
    parser.add_argument("--src", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--payload", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps({"render": phase_render, "write": phase_write, "read": phase_read}[args.phase](args)))
        return
    with tempfile.TemporaryDirectory(dir=args.scratch) as scratch:
        common = {"views": args.views, "resolution": args.resolution}
        rows = []
        payload = ""
        if args.render_meshes:
            import importlib.util

            if importlib.util.find_spec("bpy") is None:   # not imported here: it would inflate every peak RSS
                print("no bpy: part 1 skipped, part 2 uses analytic sphere depth maps")
            else:
                src = os.path.join(scratch, "src")
                os.makedirs(src)
                make_real_meshes(src, args.render_meshes)
                for layout in ("folders", "webdataset"):
                    out = os.path.join(scratch, f"render-{layout}")
                    r = run_phase(phase="render", layout=layout, src=src, out=out, workers=args.workers, **common)
                    rows.append((f"render {args.render_meshes} meshes, {layout}", r))
                payload = os.path.join(scratch, "render-folders")
        print(f"\n## render end to end: {args.render_meshes} meshes x {args.views} views at {args.resolution}²")
        print("| layout | files | folders | bytes/view | views/s |")
        print("|---|---:|---:|---:|---:|")
        for label, r in rows:
            print(f"| {label} | {r['files']} | {r['folders']} | {r['bytes'] / r['views']:,.0f} | "
                  f"{r['views'] / r['seconds']:.1f} |")
        results = {}
        for layout in ("folders", "webdataset"):
            out = os.path.join(scratch, f"write-{layout}")
            results[layout] = run_phase(phase="write", layout=layout, out=out, meshes=args.meshes,
                                        payload=payload or "none", **common)
            results[layout]["read_ours"] = run_phase(phase="read", reader="ours", out=out, **common)
            if layout == "webdataset":
                results[layout]["read_wds"] = run_phase(phase="read", reader="webdataset", out=out, **common)
        print(f"\n## write + read: {args.meshes} meshes x {args.views} views at {args.resolution}² "
              f"(depth only; payload: {'real renders' if payload else 'analytic spheres'})")
        print("| layout | files | folders | bytes/view | views/s written | write peak RSS MB | "
              "samples/s read (ours) | samples/s read (webdataset) | read peak RSS MB |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for layout, r in results.items():
            wds = r.get("read_wds")
            print(f"| {layout} | {r['files']} | {r['folders']} | {r['bytes'] / r['views']:,.0f} | "
                  f"{r['views'] / r['seconds']:.0f} | {r['rss_mb']:.0f} | "
                  f"{r['read_ours']['samples'] / r['read_ours']['seconds']:.0f} | "
                  + (f"{wds['samples'] / wds['seconds']:.0f}" if wds else "-")
                  + f" | {max(r['read_ours']['rss_mb'], wds['rss_mb'] if wds else 0):.0f} |")
        npy = args.resolution ** 2 * 4 + 128
        print(f"\n(.npy depth would be {npy:,} bytes/view: raw float32 and a 128-byte header)")
        print(f"\n## extrapolated to 1,000,000 meshes x {args.views} views")
        print("| layout | inodes (files + folders) | TB |")
        print("|---|---:|---:|")
        from depth_views.outputs.shards import DEFAULT_SHARD_BYTES

        for layout, r in results.items():
            total = r["bytes"] / r["views"] * args.views * 1e6
            if layout == "webdataset":   # 1 GiB shards, plus shards/, index.jsonl and dataset.json
                inodes = -(-total // DEFAULT_SHARD_BYTES) + 3
            else:                        # per mesh: its files and folders, as measured
                inodes = (r["files"] + r["folders"]) / args.meshes * 1e6
            print(f"| {layout} | {inodes:,.0f} | {total / 1e12:.2f} |")


if __name__ == "__main__":
    main()
