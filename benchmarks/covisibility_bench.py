"""What the covisibility matrix costs a render, and how near its sampled grid is to every pixel.

    python benchmarks/covisibility_bench.py [--resolution 512 512] [--views 24 100] [--mesh examples/suzanne.obj]

For each view count: renders the mesh (depth only, the cheapest render, so the share is the largest)
with the CLI, times the whole render, then times the matrix again from the written depth (what the
render did at finish), and compares the default (about 4096 sampled surface pixels a view) with
every pixel.  Numbers are in benchmarks/RESULTS.md ("Covisibility").
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np



def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, nargs=2, default=(512, 512))
    parser.add_argument("--views", type=int, nargs="+", default=[24, 100])
    parser.add_argument("--mesh", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                       "examples", "suzanne.obj"))
    args = parser.parse_args(argv)
    from depth_views.cameras.cameras_json import load_cameras
    from depth_views.cli import main as cli
    from depth_views.exr_io import read_depth
    from depth_views.outputs.covisibility import covisibility_matrix, document_views

    width, height = args.resolution
    print(f"{os.path.basename(args.mesh)}, {width}x{height}, depth only")
    print("| views | render s (with the matrix) | matrix s | share | ms/pair | matrix every pixel s "
          "| max abs diff sampled vs every pixel | mean abs diff | depth kept MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for views in args.views:
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            code = cli(["render", args.mesh, "--out", out, "--views", str(views), "--resolution", str(width),
                        str(height), "--quiet"])
            total = time.perf_counter() - start
            if code != 0:
                return code
            folder = os.path.join(out, os.path.splitext(os.path.basename(args.mesh))[0])
            cameras = load_cameras(folder)
            depths = [read_depth(os.path.join(folder, v["files"]["depth"])) for v in cameras["views"]]
            stored = np.array(cameras["covisibility"]["matrix"])
            covisibility_views = document_views(cameras, depths)
            start = time.perf_counter()
            sampled = covisibility_matrix(covisibility_views)
            seconds = time.perf_counter() - start
            start = time.perf_counter()
            every = covisibility_matrix(covisibility_views, samples=None)
            every_seconds = time.perf_counter() - start
            assert np.abs(stored - sampled).max() <= 5e-7
            off = ~np.eye(views, dtype=bool)
            difference = np.abs(sampled - every)[off]
            print(f"| {views} | {total:.2f} | {seconds:.2f} | {100 * seconds / total:.0f} % | "
                  f"{1e3 * seconds / (views * (views - 1)):.2f} | {every_seconds:.2f} | {difference.max():.4f} | "
                  f"{difference.mean():.4f} | {sum(d.nbytes for d in depths) / 1e6:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
