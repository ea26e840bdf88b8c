"""Batch at scale: worker memory over many meshes, and views/s with 1 vs 2 workers.

    python benchmarks/batch_scale.py --meshes 500            # RSS curve over 500 small meshes
    python benchmarks/batch_scale.py --throughput 12 --views 24 --resolution 128

Needs bpy and trimesh.  Meshes cycle through OBJ, PLY, STL and GLB (spheres, boxes, cylinders of
different sizes), so every importer is exercised.  Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time


def make_meshes(folder: str, count: int) -> None:
    import trimesh

    suffixes = (".obj", ".ply", ".stl", ".glb")
    for i in range(count):
        kind = i % 3
        if kind == 0:
            mesh = trimesh.creation.icosphere(subdivisions=2 + i % 2, radius=0.5 + 0.01 * i)
        elif kind == 1:
            mesh = trimesh.creation.box(extents=(1 + 0.01 * i, 1.0, 0.5))
        else:
            mesh = trimesh.creation.cylinder(radius=0.4, height=1 + 0.01 * i, sections=24)
        mesh.export(os.path.join(folder, f"mesh{i:05d}{suffixes[i % len(suffixes)]}"))


def memory(count: int, views: int, resolution: int) -> None:
    from depth_views.batch import run_batch
    from depth_views.options import RenderOptions

    with tempfile.TemporaryDirectory() as scratch:
        src = os.path.join(scratch, "src")
        os.makedirs(src)
        make_meshes(src, count)
        started = time.perf_counter()
        summary = run_batch(src, os.path.join(scratch, "out"),
                            RenderOptions(views=views, resolution=(resolution, resolution)), workers=1)
        seconds = time.perf_counter() - started
    curve = [r / 2**20 for r in summary.rss]
    print(f"memory: {summary.rendered} meshes rendered ({summary.failed} failed) in {seconds:.0f} s; "
          f"worker RSS after each mesh, MB:")
    step = max(1, len(curve) // 25)
    for start in range(0, len(curve), step * 10):
        print("  " + " ".join(f"{i + 1}:{curve[i]:.0f}" for i in range(start, min(len(curve), start + step * 10), step)))
    if curve:
        warm = curve[min(len(curve) - 1, 10):]
        print(f"memory: first {curve[0]:.0f} MB, after mesh 10 {warm[0]:.0f} MB, last {curve[-1]:.0f} MB, "
              f"max {max(curve):.0f} MB; growth after warm-up {max(warm) - warm[0]:+.1f} MB")


def throughput(count: int, views: int, resolution: int, workers_list: list[int]) -> None:
    from depth_views.batch import run_batch
    from depth_views.batch.local import available_cpus
    from depth_views.options import RenderOptions

    with tempfile.TemporaryDirectory() as scratch:
        src = os.path.join(scratch, "src")
        os.makedirs(src)
        make_meshes(src, count)
        options = RenderOptions(views=views, resolution=(resolution, resolution))
        for workers in workers_list:
            started = time.perf_counter()
            summary = run_batch(src, os.path.join(scratch, f"out{workers}"), options, workers=workers)
            seconds = time.perf_counter() - started
            print(f"throughput: {available_cpus()} CPUs, {workers} worker(s): {summary.views} views of "
                  f"{summary.rendered} meshes at {resolution}x{resolution} in {seconds:.1f} s = "
                  f"{summary.views / seconds:.1f} views/s (worker start-up included)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--meshes", type=int, default=0, help="meshes for the memory curve (e.g. 500)")
    parser.add_argument("--throughput", type=int, default=0, help="meshes for the views/s comparison")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--views", type=int, default=1)
    parser.add_argument("--resolution", type=int, default=32)
    args = parser.parse_args(argv)
    if not (args.meshes or args.throughput):
        parser.error("give --meshes N and/or --throughput N")
    if args.meshes:
        memory(args.meshes, args.views, args.resolution)
    if args.throughput:
        throughput(args.throughput, args.views, args.resolution, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
