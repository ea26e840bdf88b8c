"""``depth-views`` command line: ``depth-views render INPUT [INPUT ...] --out DIR [options]``,
``depth-views batch SOURCE --out DIR [options]`` (see :mod:`.batch`), ``depth-views status DIR`` and
``depth-views check DIR``.

Every input is rendered in this one process (Blender's ``bpy`` module), one after another; an input
that fails is reported on one line and the others still render.  Exit codes of render and batch: 0
when every input the run took is done (inputs other live runs on DIR hold are theirs to finish), 1
when any failed, 2 for bad options, 130 after Ctrl-C.  ``status``: 0 complete, 1 failures are all
that is left, 3 in progress, 4 incomplete with no run working on it, 2 not a batch folder.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time

from .render.allocator import keep_freed_memory
from .cameras.sphere import SAMPLINGS
from .errors import DepthViewsError
from .cameras.models import CAMERA_MODELS
from .options import (DEVICES, EMPTY_VIEWS, ENGINES, EXR_COMPRESSIONS, FORMATS, PASSES, PREVIEW_COLORMAPS,
                      PREVIEW_RANGES, RGB_ENGINES, RGB_LIGHTINGS, RenderOptions, output_folder_names)
from .resolved import RenderSetup, resolve

PROG = "depth-views"


def _radius(text: str):
    if text == "auto":
        return None
    if ":" in text:  # a LOW:HIGH range, drawn per view (docs/camera-files.md)
        return _range(text)
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a distance, LOW:HIGH or 'auto', got {text!r}") from None


def _range(text: str):
    from .cameras.sphere import parse_range

    try:
        return parse_range(text, "range")
    except DepthViewsError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _fov(text: str):
    if ":" in text:
        return _range(text)
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected degrees or LOW:HIGH, got {text!r}") from None


def _choices(allowed):
    """argparse type for a comma-separated list of names from ``allowed`` (``depth,normal``)."""
    def parse(text: str) -> list[str]:
        names = [name.strip().replace("-", "_") for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in allowed]
        if unknown:
            raise argparse.ArgumentTypeError(f"{','.join(unknown)}: choose from {', '.join(allowed)}")
        return names
    return parse


def _flatten(groups) -> tuple[str, ...]:
    names: list[str] = []
    for group in groups or []:
        names += [name for name in group if name not in names]
    return tuple(names)


def _byte_size(text: str) -> int:
    """``1G``, ``500M``, ``64k`` or a plain number of bytes."""
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    number, unit = text.strip().lower().rstrip("ib"), 1
    if number and number[-1] in units:
        number, unit = number[:-1], units[number[-1]]
    try:
        value = int(float(number) * unit)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a size like 500M or 2G, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be positive")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Render metric depth maps of meshes from cameras on a sphere.")
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser(
        "render", help="render depth views of mesh files or .blend files",
        description="Writes DIR/<input stem>/depth/NNNN.exr (float32 planar depth in scene units, "
                    "+inf = no surface), cameras.json and transforms.json for each input.  Exit code 0 when "
                    "every input rendered (with --formats webdataset: is done, inputs another live run on DIR "
                    "holds being that run's), 1 when any failed, 2 for bad options.")
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
                      help="camera distance from the centre in scene units, LOW:HIGH (uniform per view from --seed), "
                           "or 'auto' (default): "
                           "fit the object's bounding sphere in the view with a 10%% margin")
    cams.add_argument("--center", type=float, nargs=3, metavar=("X", "Y", "Z"),
                      help="point the cameras look at (default: bounding-box centre)")
    lens = render.add_argument_group("image and lens")
    lens.add_argument("--resolution", type=int, nargs=2, default=(512, 512), metavar=("W", "H"),
                      help="image size in pixels (default 512 512)")
    lens.add_argument("--lens", type=float, default=50.0, help="focal length in mm (default 50)")
    lens.add_argument("--sensor", type=float, default=36.0,
                      help="sensor width in mm across the larger image side (default 36, Blender's AUTO fit)")
    lens.add_argument("--fov", type=_fov, help="field of view in degrees across the larger image side "
                                                "(overrides --lens); LOW:HIGH draws one per view from --seed")
    lens.add_argument("--clip-start", type=float, help="near clip distance (default: from the object's size)")
    lens.add_argument("--clip-end", type=float, help="far clip distance (default: from the object's size)")
    models = render.add_argument_group("camera model (docs/camera-models.md)")
    models.add_argument("--camera-model", choices=CAMERA_MODELS, default=RenderOptions.camera_model,
                        help="perspective (default; depth = planar z), orthographic (parallel rays, planar), "
                             "fisheye (equidistant) or equirectangular (360 degrees); the last two store the ray length")
    models.add_argument("--ortho-scale", type=_radius, default=None, metavar="UNITS|auto",
                        help="orthographic: scene units across the larger image side, or 'auto' (default): "
                             "fit the object like --radius auto")
    models.add_argument("--fisheye-fov", type=float, default=RenderOptions.fisheye_fov, metavar="DEG",
                        help="fisheye: field of view in degrees across the width and across the height (default 180)")
    models.add_argument("--longitude-range", type=float, nargs=2, default=RenderOptions.longitude_range,
                        metavar=("MIN", "MAX"), help="equirectangular: longitudes in degrees, 0 = ahead, "
                                                     "positive right (default -180 180)")
    models.add_argument("--latitude-range", type=float, nargs=2, default=RenderOptions.latitude_range,
                        metavar=("MIN", "MAX"), help="equirectangular: latitudes in degrees, positive up "
                                                     "(default -90 90)")
    misc = render.add_argument_group("scene and engine")
    misc.add_argument("--normalize", action="store_true",
                      help="centre the object and scale it into a sphere of radius 0.5 first "
                           "(the transform is written to cameras.json)")
    misc.add_argument("--engine", choices=ENGINES, default=RenderOptions.engine,
                      help="render engine (default cycles: exact depth at pixel centres)")
    misc.add_argument("--device", choices=DEVICES, default=RenderOptions.device, help="Cycles device (default cpu)")
    misc.add_argument("--exr-compression", choices=EXR_COMPRESSIONS, default="zip",
                      help="lossless EXR codec of the written depth files (default zip)")
    outs = render.add_argument_group("passes and formats")
    outs.add_argument("--passes", type=_choices(PASSES), nargs="+", metavar="PASS",
                      help=f"what to render per view, comma- or space-separated: {', '.join(PASSES)} "
                           "(default depth; depth is always rendered)")
    outs.add_argument("--formats", type=_choices(FORMATS), nargs="+", metavar="FORMAT",
                      help=f"how to store it: {', '.join(FORMATS)} (default exr)")
    outs.add_argument("--png16-scale", type=float, default=RenderOptions.png16_scale, metavar="UNITS",
                      help="scene units per count of png16 depth (default 1e-4: 0.0001..6.5535 units)")
    outs.add_argument("--preview-range", choices=PREVIEW_RANGES, default=RenderOptions.preview_range,
                      help="preview colours span each view's min..max (view), the object's bounding "
                           "sphere seen from the camera (object, default; one scale for all views) or "
                           "--preview-near..--preview-far (fixed)")
    outs.add_argument("--preview-near", type=float, help="near end of --preview-range fixed (scene units)")
    outs.add_argument("--preview-far", type=float, help="far end of --preview-range fixed (scene units)")
    outs.add_argument("--preview-colormap", choices=PREVIEW_COLORMAPS, default=RenderOptions.preview_colormap,
                      help="preview colour map (default turbo)")
    outs.add_argument("--preview-invert", action="store_true",
                      help="far = top of the colour map (default: near = top: bright/warm)")
    outs.add_argument("--rgb-engine", choices=RGB_ENGINES, default=RenderOptions.rgb_engine,
                      help="engine of the rgb pass (default cycles)")
    outs.add_argument("--rgb-samples", type=int, default=RenderOptions.rgb_samples,
                      help="samples per pixel of the rgb pass (default 64)")
    outs.add_argument("--no-denoise", action="store_true",
                      help="do not denoise the rgb pass (it is denoised when Blender has OpenImageDenoise)")
    outs.add_argument("--rgb-exr", action="store_true", help="also write the rgb pass as linear float EXR")
    outs.add_argument("--keep-transparency", action="store_true",
                      help="depth/normal/mask see through transparent materials (alpha below "
                           "--alpha-threshold); default: every surface is opaque")
    outs.add_argument("--alpha-threshold", type=float, default=RenderOptions.alpha_threshold,
                      help="with --keep-transparency: the alpha a surface needs to count (default 0.5)")
    outs.add_argument("--empty-views", choices=EMPTY_VIEWS, default=RenderOptions.empty_views,
                      help="a view that sees no surface (coverage 0): warn (default), or fail its mesh "
                           "(failures.jsonl in a batch; render exits 1)")
    add_camera_file_options(render)
    # WebDataset shards (--formats webdataset; docs/datasets.md)
    outs.add_argument("--shard-views", type=int, metavar="N",
                      help="with --formats webdataset: at most N views per tar shard (whole meshes)")
    outs.add_argument("--shard-size", type=_byte_size, metavar="BYTES",
                      help="with --formats webdataset: shard size target, e.g. 500M or 2G (default 1G)")
    colour = render.add_argument_group("colour datasets (docs/rgbd.md)")
    colour.add_argument("--rgb-bounces", type=int, default=RenderOptions.rgb_bounces, metavar="N",
                        help=f"light bounces of the rgb pass (diffuse, glossy, transmission; default "
                             f"{RenderOptions.rgb_bounces})")
    colour.add_argument("--rgb-noise-threshold", type=float, default=RenderOptions.rgb_noise_threshold,
                        metavar="T", help="adaptive sampling of the rgb pass: stop a pixel when its noise is "
                                          "below T (e.g. 0.05; default 0 = off, every pixel gets --rgb-samples)")
    colour.add_argument("--rgb-lighting", choices=RGB_LIGHTINGS, default=RenderOptions.rgb_lighting,
                        help="auto (default: the file's lights/world, else headlight), headlight (dim ambient "
                             "+ a sun from the camera), white (uniform white environment), file (only the file's)")
    colour.add_argument("--frame", type=int, metavar="N",
                        help="render the pose of animation frame N (default: the pose the file opens in)")
    misc.add_argument("--quiet", action="store_true", help="print only errors and the summary")
    misc.add_argument("--verbose", action="store_true", help="also show Blender's own log output")
    add_batch_command(commands, shared_from=render)
    add_status_command(commands)
    add_check_command(commands)
    return parser


def add_status_command(commands) -> None:
    """``depth-views status DIR`` (docs/batch.md#is-the-folder-complete)."""
    status = commands.add_parser(
        "status", help="where a batch's output folder stands: done, held by live runs, failed, not started",
        description="Counts and lists the meshes of DIR that are done, held by a live run (host, pid, age of "
                    "the claim), failed (with the error) or not started, for every input the runs on DIR "
                    "were given (all parts of a job array together).  Reads only.  Exit code 0 when DIR is "
                    "complete (every input done, none failed), 1 when failures are all that is left, 3 while "
                    "live runs are working on it, 4 when inputs are left and no run is working on them, 2 "
                    "when DIR is not a batch output folder.")
    status.add_argument("folder", metavar="DIR", help="the --out folder of depth-views batch")
    status.add_argument("--sources", nargs="+", metavar="SOURCE",
                        help="the inputs DIR is meant to hold, instead of the sources its runs recorded")
    status.add_argument("--part", type=_part, metavar="K/N",
                        help="only part K of N of the inputs (a DIR that holds one part of a job array)")
    status.add_argument("--all", action="store_true", help="list every mesh (default: the first 20 of each list)")


def run_status_command(args: argparse.Namespace) -> int:
    from .batch.status import dataset_status, status_lines

    status = dataset_status(args.folder, sources=args.sources, part=args.part)
    print("\n".join(status_lines(status, limit=None if args.all else 20)), flush=True)
    return status.exit_code


def add_check_command(commands) -> None:
    """``depth-views check DIR [--mesh FILE]`` (docs/camera-files.md)."""
    from .outputs.check import (DEFAULT_MIN_AGREEMENT, DEFAULT_NEIGHBOURS, DEFAULT_TOLERANCE, RECAST_TOLERANCE_SHARE,
                                SIGNIFICANCE)

    check = commands.add_parser(
        "check", help="self-test a rendered folder: reproject each view's depth into its neighbours",
        description="Lifts every view's depth to 3D through its stored camera (any camera model) and "
                    "compares it, both ways, with the depth of its nearest views (and, with --mesh, with "
                    "an independent ray cast of the mesh).  Points hidden in the other view (occluded) "
                    "and points at silhouettes and depth edges are left out; the rest must lie within "
                    "the tolerance of the other view's surface.  One line per view (per pair: the share "
                    "that agrees of the pixels compared, how many were occluded or at edges; the "
                    "tolerance) and a verdict; exit code 1 when a view fails.")
    check.add_argument("folder", metavar="DIR", help="a rendered folder (with cameras.json), or a batch "
                                                     "output / shard folder holding several")
    check.add_argument("--mesh", metavar="FILE", help="also re-cast each view against this mesh "
                                                      "(pip install 'depth_views[check]')")
    check.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE, metavar="PX",
                       help="how far a point may lie from the other view's surface, in pixel footprints (the "
                            "distance between neighbouring pixel rays at that depth; default "
                            f"{DEFAULT_TOLERANCE:g}; the mesh re-cast, two exact ray casts, allows {RECAST_TOLERANCE_SHARE:g} of it)")
    check.add_argument("--min-agreement", type=float, default=DEFAULT_MIN_AGREEMENT, metavar="SHARE",
                       help="share of compared pixels that must agree; a pair fails when it agrees on "
                            f"less by more than chance (binomial test at {SIGNIFICANCE:g}; default "
                            f"{DEFAULT_MIN_AGREEMENT:g})")
    check.add_argument("--neighbours", type=int, default=DEFAULT_NEIGHBOURS, metavar="N",
                       help=f"nearest views (by viewing direction) each view is compared with (default "
                            f"{DEFAULT_NEIGHBOURS})")


def run_check_command(args: argparse.Namespace) -> int:
    from .outputs.check import check_folder, checked_folders

    if not (args.tolerance > 0 and 0 < args.min_agreement <= 1 and args.neighbours >= 1):
        raise DepthViewsError("check: need --tolerance > 0, 0 < --min-agreement <= 1 and --neighbours >= 1")
    failed = 0
    folders = checked_folders(args.folder)
    if args.mesh and len(folders) > 1:
        raise DepthViewsError(f"check --mesh: {args.folder} holds {len(folders)} rendered folders; give one")
    for folder in folders:
        results = check_folder(folder, mesh_path=args.mesh,
                               tolerance=args.tolerance, min_agreement=args.min_agreement,
                               neighbours=args.neighbours)
        for result in results:
            print(result.line())
        bad = [r.index for r in results if not r.ok]
        unchecked = sum(not r.checked for r in results)
        failed += bool(bad) or unchecked == len(results)
        note = f" ({unchecked} unchecked: no overlapping neighbour)" if unchecked else ""
        # a failing pair names both views; the view that fails with every neighbour is the likely culprit
        alone = [r.index for r in results if r.index in bad and r.fails_with_every_neighbour]
        blame = (f"; view {alone[0]} disagrees with every neighbour" if len(alone) == 1 else
                 f"; views {', '.join(map(str, alone))} disagree with every neighbour") if 0 < len(alone) < len(bad) else ""
        print(f"{folder}: " + (f"FAIL: {len(bad)} of {len(results)} views disagree ({', '.join(map(str, bad))}){blame}"
                               if bad else "FAIL: no view overlaps another; nothing was compared"
                               if unchecked == len(results) else
                               f"PASS: {len(results) - unchecked} views agree{note}"), flush=True)
    return 1 if failed else 0


def add_camera_file_options(render: argparse.ArgumentParser) -> None:
    """Cameras people bring (docs/camera-files.md): any pinhole K, views from a camera file."""
    from .cameras.pose_arrays import POSE_CONVENTIONS

    files = render.add_argument_group("camera files and pinhole K")
    files.add_argument("--intrinsics", type=float, nargs=4, metavar=("FX", "FY", "CX", "CY"),
                       help="any pinhole K in pixels, OpenCV convention (pixel centres at integers; "
                            "the centred principal point is ((W-1)/2, (H-1)/2)); overrides --lens/--fov")
    files.add_argument("--lens-model", metavar="NAME",
                       help="a lens with distortion for sampled views (or .npy/.npz poses): a COLMAP camera model "
                            "(SIMPLE_RADIAL, OPENCV, FULL_OPENCV, OPENCV_FISHEYE, THIN_PRISM_FISHEYE, FOV, ...) or "
                            "NERFSTUDIO_OPENCV; with --lens-params (docs/camera-models.md)")
    files.add_argument("--lens-params", type=float, nargs="+", metavar="P",
                       help="the lens model's parameters in COLMAP's order and pixel convention, as cameras.txt "
                            "holds them (principal point at +0.5: cx = K[0,2] + 0.5), e.g. OPENCV: FX FY CX CY K1 K2 P1 P2")
    files.add_argument("--cameras", metavar="FILE",
                       help="render exactly the views of FILE, in its order, with its intrinsics: "
                            "transforms.json / transforms_*.json (nerfstudio, instant-ngp, NeRF-synthetic), "
                            "a COLMAP model (cameras.txt/images.txt or .bin, or its folder), our cameras.json, "
                            "or a .npy/.npz of 4x4 poses (with --pose-convention and --intrinsics/--fov)")
    files.add_argument("--pose-convention", choices=POSE_CONVENTIONS, default="opengl",
                       help="what the 4x4 matrices of a .npy/.npz are: opengl (camera-to-world, Blender/"
                            "OpenGL axes; default), opencv (camera-to-world, OpenCV axes), "
                            "opencv_w2c (world-to-camera, OpenCV axes)")
    files.add_argument("--test-fraction", type=float, default=0.125, metavar="F",
                       help="--formats nerf_synthetic: share of the views, spread evenly, that go to "
                            "transforms_test.json (default 0.125: every 8th)")


RENDER_ONLY_DESTS = ("help", "inputs", "out")


def share_render_options(render: argparse.ArgumentParser, target: argparse.ArgumentParser) -> None:
    """Give ``target`` every option of the render command (cameras, image and lens, engine, ...).

    The very same argparse actions are added to ``target``, in the same groups, as argparse's own
    ``parents=`` does, so an option added to ``render`` exists in ``batch`` with the same name,
    default and help.  Only the help flag, the inputs and ``--out`` are render's own.
    """
    for group in render._action_groups:
        actions = [a for a in group._group_actions if a.dest not in RENDER_ONLY_DESTS]
        if not actions:
            continue
        default_group = group in (render._positionals, render._optionals)
        shared = target if default_group else target.add_argument_group(group.title, group.description)
        for action in actions:
            shared._add_action(action)


def _part(text: str):
    from .batch.inputs import parse_part

    try:
        return parse_part(text)
    except DepthViewsError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_batch_command(commands, *, shared_from: argparse.ArgumentParser) -> None:
    batch = commands.add_parser(
        "batch", help="render a whole dataset: resumable, in parallel, on one machine or a Ray cluster",
        description="Renders every mesh of SOURCE into DIR/<path relative to SOURCE>/ (the same files "
                    "as 'render'), in worker processes.  Finished meshes are skipped on restart; "
                    "failures go to DIR/failures.jsonl and every finished mesh to DIR/index.jsonl.  "
                    "Several runs may share DIR (a job array, more machines): each mesh is rendered by "
                    "one.  Exit code 0 when every input this run took is done (inputs another live run "
                    "holds are that run's; 'depth-views status DIR' says when DIR is complete), 1 when "
                    "any failed, 2 for bad options, 130 after Ctrl-C.")
    batch.add_argument("sources", nargs="+", metavar="SOURCE",
                       help="a folder (searched recursively), a glob pattern, a text file listing one "
                            "path a line, or a mesh file")
    batch.add_argument("--out", required=True, metavar="DIR", help="output folder")
    run = batch.add_argument_group("batch")
    run.add_argument("--workers", type=int, metavar="N",
                     help="worker processes, each with its own Blender (default: 2, or one per 4 CPU cores "
                          "on bigger machines; "
                          "with --ray: one actor per CPU of the cluster)")
    run.add_argument("--part", "--shard", dest="part", type=_part, metavar="K/N",
                     help="render only part K of N (K = 0..N-1), a fixed 1/N of the inputs, for job arrays "
                          "(--shard is its old name)")
    run.add_argument("--timeout", type=float, metavar="SECONDS",
                     help="give up on a mesh that takes longer than this (default: no limit)")
    run.add_argument("--retry-failed", action="store_true",
                     help="render again the inputs listed in failures.jsonl by an earlier run")
    run.add_argument("--ray", nargs="?", const="auto", default=None, metavar="ADDRESS",
                     help="run on a Ray cluster (pip install 'depth_views[ray]'); ADDRESS as for "
                          "ray.init, e.g. ray://head:10001 (default: RAY_ADDRESS or a local Ray)")
    run.add_argument("--progress", choices=("auto", "bar", "lines"), default="auto",
                     help="a tqdm bar (terminal default) or one line per mesh")
    share_render_options(shared_from, batch)


def run_batch_command(args: argparse.Namespace) -> int:
    from .batch import store
    from .batch.progress import BatchProgress
    from .batch.run import BatchSummary, batch_events, prepare_output_root

    setup = resolve(options_from_args(args))
    out_root = prepare_output_root(args.out)
    progress = BatchProgress(bar={"auto": None, "bar": True, "lines": False}[args.progress],
                             quiet=args.quiet, prog=PROG)
    summary = BatchSummary()
    events = batch_events(args.sources, out_root, setup, workers=args.workers, part=args.part,
                          timeout=args.timeout, retry_failed=args.retry_failed,
                          use_ray=args.ray is not None,
                          ray_address=None if args.ray in (None, "auto") else args.ray,
                          verbose=args.verbose, summary=summary,
                          plan_ready=lambda plan: progress.plan_ready(plan, setup.n_views),
                          shard_views=args.shard_views, shard_bytes=args.shard_size)
    refused = False
    try:
        for event in events:
            progress(event)
    except KeyboardInterrupt:
        _error("interrupted; the finished meshes are kept: run the same command again to resume")
        return 130
    except DepthViewsError:
        # refused before any mesh's outcome (other options, a corrupt shard, a lens model the workers' Blender
        # cannot render): one line
        refused = not (summary.rendered or summary.failed or summary.skipped or summary.claimed)
        raise
    finally:
        events.close()
        if not refused:
            progress.close(summary, out_root, store.journal_path(out_root, store.FAILURES_STEM, args.part))
    return 1 if summary.failed else 0


def options_from_args(args: argparse.Namespace) -> RenderOptions:
    """The :class:`RenderOptions` a parsed ``render`` command line asks for."""
    if args.views is not None:
        views = args.views
    else:
        views = args.grid[0] * args.grid[1] if args.grid else RenderOptions.views
    return RenderOptions(
        views=views, sampling=args.sampling, seed=args.seed,
        grid=tuple(args.grid) if args.grid else None, hemisphere=args.hemisphere,
        elevation=tuple(args.elevation) if args.elevation else None,
        radius=None if isinstance(args.radius, tuple) else args.radius,
        center=tuple(args.center) if args.center else None, resolution=tuple(args.resolution),
        lens=args.lens, sensor=args.sensor, fov=None if isinstance(args.fov, tuple) else args.fov,
        clip_start=args.clip_start,
        clip_end=args.clip_end, normalize=args.normalize, engine=args.engine, device=args.device,
        exr_compression=args.exr_compression,
        passes=_flatten(args.passes) or RenderOptions.passes,
        formats=_flatten(args.formats) or RenderOptions.formats,
        png16_scale=args.png16_scale, preview_range=args.preview_range, preview_near=args.preview_near,
        preview_far=args.preview_far, preview_colormap=args.preview_colormap,
        preview_invert=args.preview_invert, rgb_engine=args.rgb_engine, rgb_samples=args.rgb_samples,
        rgb_denoise=not args.no_denoise, rgb_exr=args.rgb_exr, keep_transparency=args.keep_transparency,
        alpha_threshold=args.alpha_threshold,
        camera_model=args.camera_model, ortho_scale=args.ortho_scale, fisheye_fov=args.fisheye_fov,
        longitude_range=tuple(args.longitude_range), latitude_range=tuple(args.latitude_range),
        intrinsics=tuple(args.intrinsics) if args.intrinsics else None,
        cameras_file=os.path.abspath(args.cameras) if args.cameras else None,
        pose_convention=args.pose_convention, test_fraction=args.test_fraction,
        radius_range=args.radius if isinstance(args.radius, tuple) else None,
        fov_range=args.fov if isinstance(args.fov, tuple) else None,
        rgb_bounces=args.rgb_bounces, rgb_noise_threshold=args.rgb_noise_threshold, rgb_lighting=args.rgb_lighting,
        frame=args.frame, empty_views=args.empty_views, lens_model=args.lens_model,
        lens_params=tuple(args.lens_params) if args.lens_params else None)


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)


def run_render_shards(args: argparse.Namespace, setup: RenderSetup) -> int:
    """``render --formats webdataset``: the batch's run over the inputs, named by their stems and
    rendered in this process (claims, index, resume and failures.jsonl as in a batch): an input already
    in a finished shard, or being rendered by another live run on DIR, is not rendered again."""
    from .batch import store
    from .batch.events import MeshFailed, MeshRendered, MeshSkipped
    from .batch.in_process import checked_blender_worker
    from .batch.inputs import BatchInput
    from .batch.run import BatchSummary, batch_events
    from .outputs.derived import empty_views_message

    checked_blender_worker(setup)   # no bpy, a lens on 4.2: one line, before DIR records a run that cannot render
    names = output_folder_names(args.inputs)
    inputs = [BatchInput(os.path.abspath(path), name) for path, name in zip(args.inputs, names)]
    given = {name: (number, path) for number, (path, name) in enumerate(zip(args.inputs, names), start=1)}
    out_root = os.path.abspath(args.out)
    keep_freed_memory()   # this process renders: as in run_render
    summary, rendered, shard_of = BatchSummary(), set(), {}

    def line(name: str, text: str) -> None:
        if not args.quiet:
            number, path = given[name]
            print(f"[{number}/{len(inputs)}] {path}: {text}", flush=True)

    events = batch_events(inputs, out_root, setup, in_process=True, retry_failed=True, verbose=args.verbose,
                          summary=summary, shard_views=args.shard_views, shard_bytes=args.shard_size)
    try:
        for event in events:
            name = event.item.name
            if isinstance(event, MeshRendered):
                rendered.add(name)
                line(name, f"{event.views} views ({event.seconds:.1f} s)")
                if event.entry.get("empty_views"):
                    warning = empty_views_message(given[name][1], event.entry["empty_views"], event.views)
                    print(f"{PROG}: warning: {warning}", file=sys.stderr, flush=True)
            elif isinstance(event, MeshFailed):
                _error(event.error)
            elif isinstance(event, MeshSkipped) and event.reason == "complete":
                if name not in shard_of:
                    shard_of.update((r["name"], r["shard"]) for r in store.read_index(out_root) if r.get("shard"))
                line(name, f"already in {shard_of.get(name, 'a finished shard')}")
            elif isinstance(event, MeshSkipped) and event.reason == "claimed":
                line(name, "another run on this folder is rendering it")
    except KeyboardInterrupt:
        _error("interrupted; the finished shards are kept: run the same command again to resume")
        return 130
    finally:
        events.close()
    shards_written = {r["shard"] for r in store.read_index(out_root) if r.get("name") in rendered and r.get("shard")
                      and os.path.exists(os.path.join(out_root, *r["shard"].split("/")))}
    print(f"{PROG}: rendered {summary.rendered} of {summary.inputs} inputs into {os.path.join(out_root, 'shards')} "
          f"({len(shards_written)} shards) in {summary.seconds:.1f} s"
          + (f"; {summary.skipped} already there" if summary.skipped else "")
          + (f"; {summary.claimed} left to another run" if summary.claimed else "")
          + (f"; {summary.failed} failed" if summary.failed else ""), flush=True)
    return 1 if summary.failed else 0


def run_render(args: argparse.Namespace) -> int:
    setup = resolve(options_from_args(args))   # the options checked and the camera file read: once per run
    if "webdataset" in setup.options.formats:
        return run_render_shards(args, setup)
    out_root = os.path.abspath(args.out)
    if os.path.exists(out_root) and not os.path.isdir(out_root):
        raise DepthViewsError(f"{out_root}: --out is a file, not a folder")
    from .batch.in_process import checked_blender_worker, silenced_stdout_fd   # (silenced: as the batch's)

    checked_blender_worker(setup)   # no bpy, or a lens on Blender 4.2: refused once, up front, in one line
    from .render.job import render_input
    # This process only renders: keep freed render buffers instead of page-faulting them back in
    # for every view (about 10 % of a view's CPU time; see benchmarks/RESULTS.md).
    keep_freed_memory()
    started = time.perf_counter()
    failed = []
    names = output_folder_names(args.inputs)
    for number, (path, name) in enumerate(zip(args.inputs, names), start=1):
        output_dir = os.path.join(out_root, name)
        try:
            for folder in (output_dir, os.path.join(output_dir, "depth")):
                if os.path.islink(folder):  # planted links must not carry writes outside --out
                    raise DepthViewsError(f"{folder}: is a symbolic link; Depth Views does not write "
                                          "through links inside --out (remove it or choose another --out)")
            with contextlib.nullcontext() if args.verbose else silenced_stdout_fd():
                report = render_input(path, output_dir, setup)
        except DepthViewsError as error:
            failed.append(path)
            _error(str(error))
            continue
        except Exception as error:  # a Blender failure on one input must not stop the others
            failed.append(path)
            last_line = (str(error).strip().splitlines() or [""])[-1]
            _error(f"{path}: unexpected failure: {type(error).__name__}: {last_line}")
            continue
        for warning in report.warnings:
            print(f"{PROG}: warning: {warning}", file=sys.stderr, flush=True)
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
        if args.command == "batch":
            return run_batch_command(args)
        if args.command == "check":
            return run_check_command(args)
        if args.command == "status":
            return run_status_command(args)
    except DepthViewsError as error:
        _error(str(error))
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
