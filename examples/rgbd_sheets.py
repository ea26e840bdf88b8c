"""Make docs/rgbd.md's contact sheets: colour + depth + normal + mask of two CC0 real assets.

    python examples/rgbd_sheets.py --docs docs          # what made docs/rgbd_*.png
    python examples/rgbd_sheets.py --docs /tmp/sheets --views 1 --resolution 32   # (the test's quick run)

The assets are Debian's sweethome3d-furniture (BlendSwap CC0 part), extracted by tests/assets.py.
Each sheet is the ``contact_sheet`` format of one ``depth-views render`` (one row per view).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

ASSETS = ("oakChair", "antiqueChair")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", required=True, help="folder to write rgbd_<asset>.png into")
    parser.add_argument("--views", type=int, default=3)
    parser.add_argument("--resolution", type=int, default=160)
    parser.add_argument("--samples", type=int, default=32)
    args = parser.parse_args(argv)
    import assets  # tests/assets.py
    import depth_views
    from depth_views import RenderOptions

    options = RenderOptions(views=args.views, resolution=(args.resolution, args.resolution),
                            passes=("depth", "normal", "mask", "rgb"), formats=("exr", "contact_sheet"),
                            rgb_samples=args.samples, rgb_lighting="white")
    work = tempfile.mkdtemp(prefix="depth-views-sheets-")
    try:
        for name in ASSETS:
            path = assets.sweethome_furniture(name, work)
            print("render", os.path.basename(path), options, flush=True)
            folder = os.path.join(work, "out", name)
            depth_views.render_mesh(path, folder, options)
            os.makedirs(args.docs, exist_ok=True)
            target = os.path.join(args.docs, f"rgbd_{name}.png")
            shutil.copy(os.path.join(folder, "contact_sheet.png"), target)
            print("wrote", target, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
