"""``depth-views`` command line: ``depth-views render INPUT [INPUT ...] --out DIR [options]``.

Every input is rendered in this one process (Blender's ``bpy`` module), one after another; an input
that fails is reported on one line and the others still render.  Exit code 0 when every input
rendered, 1 when any failed, 2 for bad options.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time

from .allocator import keep_freed_memory
from .cameras import SAMPLINGS
from .errors import DepthViewsError
from .options import EXR_COMPRESSIONS, RenderOptions, output_folder_names

PROG = "depth-views"


def _radius(text: str):
    if text == "auto":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a distance or 'auto', got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Render metric depth maps of meshes from cameras on a sphere.")
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser(
        "render", help="render depth views of mesh files or .blend files",
        description="Writes DIR/<input stem>/depth/NNNN.exr (float32 planar depth in scene units, "
                    "+inf = no surface), cameras.json and transforms.json for each input.")
    render.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="mesh file (.obj .ply .stl .glb .gltf .off .fbx) or .blend file")
    render.add_argument("--out", required=True, metavar="DIR", help="output folder")
    cams = render.add_argument_group("cameras")
    cams.add_argument("--views", type=int, help="number of views (default 24; with --grid, its product)")
    cams.add_argument("--sampling", choices=SAMPLINGS, default="fibonacci",
                      help="camera placement on the sphere (default fibonacci)")
    cams.add_argument("--seed", type=int, default=0, help="seed for --sampling random (default 0)")
    cams.add_argument("--grid", type=int, nargs=2, metavar=("N_AZIMUTH", "N_ELEVATION"),
                      help="azimuth x elevation counts for --sampling grid")
    cams.add_argument("--hemisphere", action="store_true", help="upper hemisphere only (elevation >= 0)")
    cams.add_argument("--elevation", type=float, nargs=2, metavar=("MIN", "MAX"),
                      help="elevation band in degrees (-90..90)")
    cams.add_argument("--radius", type=_radius, default=None, metavar="R|auto",
                      help="camera distance from the centre in scene units, or 'auto' (default): "
                           "fit the object's bounding sphere in the view with a 10%% margin")
    cams.add_argument("--center", type=float, nargs=3, metavar=("X", "Y", "Z"),
                      help="point the cameras look at (default: bounding-box centre)")
    lens = render.add_argument_group("image and lens")
    lens.add_argument("--resolution", type=int, nargs=2, default=(512, 512), metavar=("W", "H"),
                      help="image size in pixels (default 512 512)")
    lens.add_argument("--lens", type=float, default=50.0, help="focal length in mm (default 50)")
    lens.add_argument("--sensor", type=float, default=36.0,
                      help="sensor width in mm across the larger image side (default 36, Blender's AUTO fit)")
    lens.add_argument("--fov", type=float, help="field of view in degrees across the larger image side "
                                                "(overrides --lens)")
    lens.add_argument("--clip-start", type=float, help="near clip distance (default: from the object's size)")
    lens.add_argument("--clip-end", type=float, help="far clip distance (default: from the object's size)")
    misc = render.add_argument_group("scene and engine")
    misc.add_argument("--normalize", action="store_true",
                      help="centre the object and scale it into a sphere of radius 0.5 first "
                           "(the transform is written to cameras.json)")
    misc.add_argument("--engine", choices=("cycles", "workbench", "eevee"), default="cycles",
                      help="render engine (default cycles: exact depth at pixel centres)")
    misc.add_argument("--device", choices=("cpu", "gpu"), default="cpu", help="Cycles device (default cpu)")
    misc.add_argument("--exr-compression", choices=EXR_COMPRESSIONS, default="zip",
                      help="lossless EXR codec of the written depth files (default zip)")
    misc.add_argument("--quiet", action="store_true", help="print only errors and the summary")
    misc.add_argument("--verbose", action="store_true", help="also show Blender's own log output")
    return parser


def options_from_args(args: argparse.Namespace) -> RenderOptions:
    """The :class:`RenderOptions` a parsed ``render`` command line asks for."""
    if args.views is not None:
        views = args.views
    else:
        views = args.grid[0] * args.grid[1] if args.grid else RenderOptions.views
    return RenderOptions(
        views=views, sampling=args.sampling, seed=args.seed,
        grid=tuple(args.grid) if args.grid else None, hemisphere=args.hemisphere,
        elevation=tuple(args.elevation) if args.elevation else None, radius=args.radius,
        center=tuple(args.center) if args.center else None, resolution=tuple(args.resolution),
        lens=args.lens, sensor=args.sensor, fov=args.fov, clip_start=args.clip_start,
        clip_end=args.clip_end, normalize=args.normalize, engine=args.engine, device=args.device,
        exr_compression=args.exr_compression)


@contextlib.contextmanager
def silenced_stdout_fd():
    """Send what Blender prints to file descriptor 1 (render progress, importer logs) to /dev/null."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)


def run_render(args: argparse.Namespace) -> int:
    options = options_from_args(args)
    options.validate()
    out_root = os.path.abspath(args.out)
    if os.path.exists(out_root) and not os.path.isdir(out_root):
        raise DepthViewsError(f"{out_root}: --out is a file, not a folder")
    try:
        from .pipeline import render_input
    except ImportError as error:
        raise DepthViewsError(
            f"rendering needs Blender's Python module bpy ({error}); install it with "
            "pip install 'depth_views[blender]' or run inside Blender") from None
    # This process only renders: keep freed render buffers instead of page-faulting them back in
    # for every view (about 10 % of a view's CPU time; see benchmarks/RESULTS.md).
    keep_freed_memory()
    started = time.perf_counter()
    failed = []
    names = output_folder_names(args.inputs)
    for number, (path, name) in enumerate(zip(args.inputs, names), start=1):
        output_dir = os.path.join(out_root, name)
        try:
            with contextlib.nullcontext() if args.verbose else silenced_stdout_fd():
                report = render_input(path, output_dir, options)
        except DepthViewsError as error:
            failed.append(path)
            _error(str(error))
            continue
        except Exception as error:  # a Blender failure on one input must not stop the others
            failed.append(path)
            last_line = (str(error).strip().splitlines() or [""])[-1]
            _error(f"{path}: unexpected failure: {type(error).__name__}: {last_line}")
            continue
        if not args.quiet:
            print(f"[{number}/{len(args.inputs)}] {path}: {report.n_views} views -> {report.output_dir} "
                  f"({report.seconds:.1f} s, {report.n_views / report.seconds:.1f} views/s)", flush=True)
    done = len(args.inputs) - len(failed)
    print(f"{PROG}: rendered {done} of {len(args.inputs)} inputs into {out_root} "
          f"in {time.perf_counter() - started:.1f} s" + (f"; {len(failed)} failed" if failed else ""),
          flush=True)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "render":
            return run_render(args)
    except DepthViewsError as error:
        _error(str(error))
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
