"""Write one input's rendered passes in the chosen formats, a view at a time (no bpy).

:class:`OutputWriter` is what :class:`depth_views.render.job.RenderJob` calls: :meth:`~OutputWriter.write_view`
writes every per-view file of a view (and returns their paths, relative to the output folder, for
``cameras.json``'s ``views[i].files``); :meth:`~OutputWriter.finish` writes the per-input files (npz,
contact sheet, fused point cloud) and returns what ``cameras.json`` records about them.

Per-view files (``NNNN`` = view index)::

    depth/NNNN.exr            exr      planar depth, channel Z, float32, +inf = no surface
    depth_png16/NNNN.png      png16    planar depth = value * png16 scale, 0 = no surface
    distance/NNNN.exr         exr      Euclidean distance from the camera centre, channel Z
    distance_png16/NNNN.png   png16    the same with the fixed scale
    normal/NNNN.exr           exr      world.X/Y/Z and opencv_camera.X/Y/Z, unit, 0 = no surface
    xyz/NNNN.exr              exr      world coordinates X/Y/Z of the surface at each pixel, NaN = none
    rgb/NNNN.png              (rgb)    8-bit sRGB RGBA; rgb/NNNN.exr (linear, R G B A) with rgb_exr
    mask/NNNN.png, alpha/NNNN.png  (mask)  uint16 object ids (0 = background), 8-bit 0/255 alpha
    preview/NNNN.png          preview  colour-mapped planar depth
    ply/NNNN.ply              ply      the view's points in the world frame

Per input: ``views.npz`` (npz), ``contact_sheet.png`` (contact_sheet), ``points.ply`` (fused_ply).

The arrays come from :func:`~.derived.derive_view`, as the shard writer's do; this module encodes them.
"""

from __future__ import annotations

import os
import uuid

import numpy as np

from ..cameras.models import CameraModel
from ..cameras.intrinsics import Intrinsics
from ..cameras.views import View
from ..errors import DepthViewsError
from ..exr_io import write_channels, write_depth
from ..options import RenderOptions
from .derived import derive_view
from .geometry import backproject, normals_world_to_camera
from .loading import NORMAL_CAMERA_CHANNELS, NORMAL_WORLD_CHANNELS
from .images import write_alpha_png, write_mask_png, write_rgb_png
from .png16 import MAX_COUNT, clipping_message, encode_png16, save_image_atomically, save_png16_counts
from .pointcloud import write_ply
from .preview import (colour_preview, contact_label, contact_sheet, depth_preview, mask_preview, normal_preview,
                      preview_range)

NPZ_FILE = "views.npz"
CONTACT_SHEET_FILE = "contact_sheet.png"
FUSED_PLY_FILE = "points.ply"


def view_file_name(index: int, n_views: int, extension: str = ".exr") -> str:
    """``0000.exr`` style names, wider when there are more than 10000 views."""
    return f"{index:0{max(4, len(str(n_views - 1)))}d}{extension}"


def planned_view_files(index: int, n_views: int, options: RenderOptions) -> dict:
    """Pass/format key -> path relative to the output folder, for every file view ``index`` gets."""
    passes, formats = options.wanted_passes(), set(options.formats)
    if "webdataset" in formats:
        return {}   # every pass goes into the view's WebDataset sample (outputs/shards.py)
    exr, png = view_file_name(index, n_views, ".exr"), view_file_name(index, n_views, ".png")
    files = {}
    for name in ("depth", "distance"):
        if name in passes and "exr" in formats:
            files[name] = f"{name}/{exr}"
        if name in passes and "png16" in formats:
            files[f"{name}_png16"] = f"{name}_png16/{png}"
    if "normal" in passes and "exr" in formats:
        files["normal"] = f"normal/{exr}"
    if "xyz" in passes and "exr" in formats:
        files["xyz"] = f"xyz/{exr}"
    if "rgb" in passes:
        files["rgb"] = f"rgb/{png}"
        if options.rgb_exr:
            files["rgb_exr"] = f"rgb/{exr}"
    if "mask" in passes:
        files["mask"] = f"mask/{png}"
        files["alpha"] = f"alpha/{png}"
    if "preview" in formats:
        files["preview"] = f"preview/{png}"
    if "ply" in formats:
        files["ply"] = f"ply/{view_file_name(index, n_views, '.ply')}"
    return files


class OutputWriter:
    """Writes the passes of each view of one input into ``output_dir`` as ``options`` asks.

    ``center``/``object_radius`` (scene units) give the ``object`` preview range; ``object_ids``
    maps mask ids to object names.  Problems the user should hear about (png16 clipping) collect
    in :attr:`warnings`; :attr:`coverage` lists each view's fraction of pixels with a surface.
    """

    def __init__(self, output_dir: str, options: RenderOptions, intrinsics: Intrinsics, n_views: int, *,
                 units: str = "", center=None, object_radius: float | None = None,
                 object_ids: dict | None = None, camera_model: CameraModel | None = None):
        self.output_dir, self.options, self.intrinsics = output_dir, options, intrinsics
        self.camera_model = camera_model or CameraModel.perspective(intrinsics)
        self._pinhole = self.camera_model.is_pinhole
        self.n_views, self.units = n_views, units
        self.passes, self.formats = options.wanted_passes(), set(options.formats)
        self.center, self.object_radius = center, object_radius
        self.object_ids = dict(object_ids or {})
        self.warnings: list[str] = []
        self.coverage: list[float] = []
        self.clipped = {"depth": [0, 0], "distance": [0, 0]}
        self.preview_ranges: list = []
        self._stack: dict[str, list] = {}
        self._sheet_tiles: list = []
        self._sheet_labels: list = []
        self._sheet_columns: int | None = None
        self._fused: list = []

    # -- per view -------------------------------------------------------------------------------
    def folders(self) -> list[str]:
        """The subfolders per-view files go into."""
        return sorted({os.path.dirname(path) for path in planned_view_files(0, self.n_views, self.options).values()})

    def prepare(self) -> None:
        """Create the subfolders; DepthViewsError naming one that cannot be made."""
        for folder in self.folders():
            path = os.path.join(self.output_dir, folder)
            try:
                os.makedirs(path, exist_ok=True)
            except OSError as error:
                raise DepthViewsError(f"{path}: cannot create the output folder ({error.strerror})") from None

    def write_view(self, view: View, rendered: dict) -> dict:
        """Write every file of ``view`` from ``rendered`` and return ``{key: relative path}``.

        ``rendered``: ``depth`` (H, W) planar, +inf = no surface (always); ``normal`` (H, W, 3) world
        frame; ``mask`` (H, W) integer object ids; ``rgb`` (H, W, 4) linear RGBA float.
        """
        options = self.options
        view_camera = self.camera_model.for_view(view)     # the view's own K or lens, or the model
        K = view_camera.geometry_camera(view.intrinsics or self.intrinsics)  # a pinhole K, or the model
        files = planned_view_files(view.index, self.n_views, options)
        path = {key: os.path.join(self.output_dir, rel) for key, rel in files.items()}
        derived = derive_view(rendered, K, view.world_to_camera, self.passes)
        depth, hit, arrays = derived.depth, derived.hit, derived.arrays()
        self.coverage.append(derived.coverage)
        camera = {"K": K if self._pinhole else None, "world_to_camera": view.world_to_camera,
                  "camera_to_world": view.camera_to_world}
        # the EXR metadata states the camera: every model but the pinhole its whole block (lens parameters too)
        base = {"view_index": view.index, "units": self.units,
                **({} if self._pinhole else {"camera_model": view_camera.to_json()})}

        if "depth" in path:
            write_depth(path["depth"], depth, **camera, metadata={"depth_kind": self.camera_model.depth_kind, **base},
                        compression=options.exr_compression)
        if "distance" in path:
            write_channels(path["distance"], {"Z": arrays["distance"]}, **camera,
                           metadata={"depth_kind": "euclidean", **base}, compression=options.exr_compression)
        for name in ("depth", "distance"):
            if f"{name}_png16" in path:
                self._png16(path[f"{name}_png16"], arrays[name], name)
        if "normal" in path:
            normal = arrays["normal"]
            normal_camera = normals_world_to_camera(normal, view.world_to_camera)
            channels = {c: normal[..., i] for i, c in enumerate(NORMAL_WORLD_CHANNELS)}
            channels.update({c: normal_camera[..., i] for i, c in enumerate(NORMAL_CAMERA_CHANNELS)})
            write_channels(path["normal"], channels, **camera,
                           metadata={"pass": "normal", "frames": "world.* = world frame, opencv_camera.* = "
                                     "OpenCV camera axes (x right, y down, z forward); 0 = no surface", **base},
                           compression=options.exr_compression)
        if "xyz" in path:
            write_channels(path["xyz"], {c: arrays["xyz"][..., i] for i, c in enumerate("XYZ")}, **camera,
                           metadata={"pass": "xyz", "frame": "world frame of cameras.json (with --normalize: "
                                     "the normalised object frame, object_to_world applied); NaN = no surface",
                                     **base}, compression=options.exr_compression)
        if "rgb" in path:
            write_rgb_png(path["rgb"], arrays["rgb_linear"])
        if "rgb_exr" in path:
            rgba = arrays["rgb_linear"]
            write_channels(path["rgb_exr"], {c: rgba[..., i] for i, c in enumerate("RGBA")}, **camera,
                           metadata={"pass": "rgb", "color": "linear scene-referred", **base},
                           compression=options.exr_compression)
        if "mask" in path:
            write_mask_png(path["mask"], arrays["mask"])
            write_alpha_png(path["alpha"], arrays["mask"] > 0)

        if "preview" in self.formats or "contact_sheet" in self.formats:
            near, far = preview_range(depth, options.preview_range, camera_position=view.position,
                                      center=self.center, object_radius=self.object_radius,
                                      near=options.preview_near, far=options.preview_far)
            self.preview_ranges.append([near, far])
            image = depth_preview(depth, near, far, colormap=options.preview_colormap,
                                  invert=options.preview_invert, background=options.preview_background)
            if "preview" in path:
                from PIL import Image

                save_image_atomically(Image.fromarray(image, "RGB"), path["preview"])
            if "contact_sheet" in self.formats:
                values = depth[hit]
                label = (contact_label(view.index, float(values.min()), float(values.max()))
                         if values.size else f"#{view.index} no surface")
                # With colour, normals or masks, each view is one row: colour, depth, normal, mask.
                row = [(colour_preview(arrays["rgb"], options.preview_background), f"#{view.index} colour")
                       if "rgb" in arrays else None, (image, label),
                       (normal_preview(arrays["normal"]), f"#{view.index} normal") if "normal" in arrays else None,
                       (mask_preview(arrays["mask"]), f"#{view.index} mask") if "mask" in arrays else None]
                row = [tile for tile in row if tile is not None]
                self._sheet_columns = len(row) if len(row) > 1 else None
                self._sheet_tiles += [_thumbnail(tile) for tile, _ in row]
                self._sheet_labels += [text for _, text in row]
        if "ply" in path or "fused_ply" in self.formats or "colmap" in self.formats:
            points, (rows, columns) = backproject(depth, K, view.world_to_camera, return_pixels=True)
            colors = arrays["rgb"][rows, columns, :3] if "rgb" in arrays else None
            normals = arrays["normal"][rows, columns] if "normal" in arrays else None
            if "ply" in path:
                write_ply(path["ply"], points, colors=colors, normals=normals,
                          comments=self._ply_comments(f"view {view.index}"))
            if "fused_ply" in self.formats or "colmap" in self.formats:
                self._fused.append((points.astype(np.float32), colors, normals))
        if "npz" in self.formats:
            for key, value in arrays.items():
                if key != "rgb_linear" or options.rgb_exr:
                    self._stack.setdefault(key, []).append(value)
            self._stack.setdefault("view_index", []).append(view.index)
            self._stack.setdefault("world_to_camera", []).append(view.world_to_camera)
            self._stack.setdefault("camera_to_world", []).append(view.camera_to_world)
            # each view's own K (camera files, --fov ranges; NaN for equirectangular) and lens parameters
            self._stack.setdefault("view_K", []).append(np.full((3, 3), np.nan) if view_camera.K is None
                                                        else np.asarray(view_camera.K if not self._pinhole else K,
                                                                        dtype=np.float64))
            if view_camera.lens is not None:
                self._stack.setdefault("view_camera_model", []).append(view_camera.name)
                self._stack.setdefault("view_lens_params", []).append(view_camera.lens.params)
        return files

    def _png16(self, path: str, values: np.ndarray, name: str) -> None:
        scale = self.options.png16_scale
        counts, below, above = encode_png16(values, scale)
        save_png16_counts(path, counts, scale, units=self.units,
                          depth_kind=self.camera_model.depth_kind if name == "depth" else "euclidean")
        self.clipped[name][0] += below
        self.clipped[name][1] += above

    def _ply_comments(self, what: str) -> list[str]:
        return [f"depth_views {what}: world frame of the input file, {self.units or 'scene units'}"]

    # -- per input ------------------------------------------------------------------------------
    def fused_cloud(self, max_points: int | None = None):
        """(points (N, 3) float32, colours (N, 3) uint8 or None) of every view so far, every k-th point
        when there are more than ``max_points``; (None, None) when nothing was collected."""
        if not self._fused:
            return None, None
        points = np.concatenate([p for p, _, _ in self._fused])
        colors = None if self._fused[0][1] is None else np.concatenate([c for _, c, _ in self._fused])
        step = 1 if max_points is None else max(1, -(-len(points) // max_points))
        return points[::step], None if colors is None else colors[::step]

    def finish(self) -> tuple[dict, dict]:
        """Write the per-input files; return ``(files, extra)`` for ``cameras.json``.

        ``files`` maps ``npz``/``contact_sheet``/``fused_ply`` to their paths; ``extra`` holds the
        passes, formats, png16 scale and clip counts, preview settings and mask ids.
        """
        files: dict = {}
        options = self.options
        if "npz" in self.formats and self._stack:
            arrays = {key: np.stack(values) for key, values in self._stack.items()
                      if key not in ("view_camera_model", "view_lens_params")}
            if "view_lens_params" in self._stack:   # views of different lens models: NaN after a shorter list
                params = self._stack["view_lens_params"]
                table = np.full((len(params), max(len(p) for p in params)), np.nan)
                for row, values in enumerate(params):
                    table[row, :len(values)] = values
                arrays["view_lens_params"] = table
                arrays["view_camera_model"] = np.array(self._stack["view_camera_model"], dtype=str)
            if self.camera_model.K is not None:
                arrays["K"] = self.camera_model.K
            arrays["camera_model"] = np.array(self.camera_model.name)
            arrays["object_ids"] = np.array([f"{k}:{v}" for k, v in sorted(self.object_ids.items())], dtype=str)
            arrays["units"] = np.array(self.units)
            _savez_atomically(os.path.join(self.output_dir, NPZ_FILE), arrays)
            files["npz"] = NPZ_FILE
        if "contact_sheet" in self.formats and self._sheet_tiles:
            save_image_atomically(contact_sheet(self._sheet_tiles, self._sheet_labels, columns=self._sheet_columns),
                                  os.path.join(self.output_dir, CONTACT_SHEET_FILE))
            files["contact_sheet"] = CONTACT_SHEET_FILE
        if "fused_ply" in self.formats and self._fused:
            points = np.concatenate([p for p, _, _ in self._fused])
            colors = None if self._fused[0][1] is None else np.concatenate([c for _, c, _ in self._fused])
            normals = None if self._fused[0][2] is None else np.concatenate([n for _, _, n in self._fused])
            write_ply(os.path.join(self.output_dir, FUSED_PLY_FILE), points, colors=colors, normals=normals,
                      comments=self._ply_comments(f"{len(self._fused)} views fused"))
            files["fused_ply"] = FUSED_PLY_FILE
        extra: dict = {"passes": list(self.passes), "formats": [f for f in options.formats]}
        if "png16" in self.formats:
            scale = options.png16_scale
            extra["png16"] = {"scale": scale, "formula": "depth = value * scale; 0 = no surface",
                              "max_value": MAX_COUNT * scale,
                              "clipped_pixels": {k: sum(v) for k, v in self.clipped.items() if k in self.passes}}
            for name, (below, above) in self.clipped.items():
                if below or above:
                    self.warnings.append(clipping_message(f"{self.output_dir} {name}_png16", below, above, scale))
        if "preview" in self.formats or "contact_sheet" in self.formats:
            extra["preview"] = {"range": options.preview_range, "colormap": options.preview_colormap,
                                "invert": options.preview_invert, "background": list(options.preview_background),
                                "near_is": "far end of the colour map" if options.preview_invert
                                else "top end of the colour map", "view_ranges": self.preview_ranges}
        if "normal" in self.passes:
            extra["normal_channels"] = {"world": list(NORMAL_WORLD_CHANNELS),
                                        "opencv_camera": list(NORMAL_CAMERA_CHANNELS)}
        if "mask" in self.passes:
            extra["object_ids"] = {str(k): v for k, v in sorted(self.object_ids.items())}
        if files:
            extra["files"] = files
        return files, extra


def _thumbnail(image: np.ndarray, max_side: int = 256) -> np.ndarray:
    """Every k-th pixel so the longer side is at most ``max_side`` (no blending of colours)."""
    step = max(1, int(np.ceil(max(image.shape[:2]) / max_side)))
    return np.ascontiguousarray(image[::step, ::step])


def _savez_atomically(path: str, arrays: dict) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp.npz")
    try:
        np.savez_compressed(temporary, **arrays)
        os.replace(temporary, path)
    except OSError as error:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise DepthViewsError(f"{path}: cannot write ({error.strerror})") from None
