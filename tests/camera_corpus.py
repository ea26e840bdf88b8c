"""Hostile camera files of every format, for tests/cameras/test_hostile_camera_files.py.

Each :class:`Case` writes one file (or COLMAP model) into a folder of its own and says what the reader must
answer: a DepthViewsError of one line that starts with the file it blames and holds ``problem`` (and
``where``: the frame, view, camera or image).  ``views`` cases are readable files that the step from the
camera set to views must refuse (distortion, models, sizes).  The files are written from the formats' own
layouts (numpy's .npy header, COLMAP's binary records, zip members), not with the readers' code.

``python camera_corpus.py MANIFEST ADDRESS_SPACE HANG_SECONDS`` runs the readers on every case of a
written corpus, each in a forked child with a limited address space that is killed when it hangs, and
prints one JSON line per case (its outcome, message and the memory it added).
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

MAX_VIEWS = 100_000          # the documented limits (docs/camera-files.md), restated on purpose
JSON_LIMIT = 256 * 2**20
POSE_LIMIT = 32 * 2**20
IMAGES_LIMIT = 4 * 2**30
W, H = 64, 48


@dataclass
class Case:
    name: str
    write: Callable[[Path], str]          # writes into the case's folder, returns what to read
    problem: str                          # in the message
    where: str = ""                       # in the message too (frame/view/camera/image)
    blamed: str | None = None             # the file the message starts with, relative to the case folder
    views: bool = False                   # refused by views_from_camera_set, not by read_camera_file
    pose_convention: str = "opengl"
    default_size: tuple | None = (W, H)
    needs_non_root: bool = False          # permissions mean nothing to root
    path: str = field(default="", init=False)
    folder: str = field(default="", init=False)


CASES: list[Case] = []


def case(name, problem, where="", **kwargs):
    def register(write):
        CASES.append(Case(name, write, problem, where, **kwargs))
        return write
    return register


# -- valid pieces the cases break ---------------------------------------------------------------------

def pose(position=(0.0, -5.0, 1.0)) -> list:
    """An OpenGL camera_to_world at ``position`` (identity rotation)."""
    matrix = np.eye(4)
    matrix[:3, 3] = position
    return matrix.tolist()


def transforms(**top) -> dict:
    frames = [{"file_path": f"images/f{i}.png", "transform_matrix": pose((i, -5.0, 1.0))} for i in range(3)]
    return {"camera_model": "OPENCV", "fl_x": 50.0, "fl_y": 50.0, "cx": 32.0, "cy": 24.0, "w": W, "h": H,
            "frames": frames, **top}


def transforms_with(frame: int, **changes) -> dict:
    document = transforms()
    for key, value in changes.items():
        if value is ...:
            document["frames"][frame].pop(key, None)
        else:
            document["frames"][frame][key] = value
    return document


def own_cameras(**top) -> dict:
    views = []
    for i in range(2):
        w2c = np.diag([1.0, -1.0, -1.0, 1.0]) @ np.linalg.inv(np.asarray(pose((i, -5.0, 1.0))))
        views.append({"index": i, "files": {"depth": f"depth/{i:04d}.exr"}, "world_to_camera": w2c.tolist(),
                      "camera_to_world": pose((i, -5.0, 1.0)), "position": [i, -5.0, 1.0]})
    return {"format": "depth_views.cameras", "format_version": 1, "width": W, "height": H,
            "K": [[50.0, 0.0, 31.5], [0.0, 50.0, 23.5], [0.0, 0.0, 1.0]], "camera_model": "PINHOLE", "views": views,
            **top}


def own_with(view: int, **changes) -> dict:
    document = own_cameras()
    for key, value in changes.items():
        if value is ...:
            document["views"][view].pop(key, None)
        else:
            document["views"][view][key] = value
    return document


def write_json(folder: Path, document, name="cams.json") -> str:
    path = folder / name
    path.write_text(json.dumps(document))
    return str(path)


def write_bytes(folder: Path, data: bytes, name: str) -> str:
    path = folder / name
    path.write_bytes(data)
    return str(path)


def npy_bytes(array=None, *, header: str | None = None, data: bytes | None = None, version=(1, 0)) -> bytes:
    """A .npy file from numpy's documented layout: magic, version, header length, a dict literal header."""
    if header is None:
        array = np.asarray(array)
        header = repr({"descr": np.lib.format.dtype_to_descr(array.dtype), "fortran_order": False,
                       "shape": array.shape})
        data = array.tobytes() if data is None else data
    text = header.encode("latin1")
    size_bytes = 2 if version[0] == 1 else 4
    text += b" " * (63 - (len(text) + 8 + size_bytes) % 64) + b"\n"
    return (b"\x93NUMPY" + bytes(version) + len(text).to_bytes(size_bytes, "little") + text + (data or b""))


def poses(n=3) -> np.ndarray:
    return np.stack([np.asarray(pose((i, -5.0, 1.0))) for i in range(n)])


def npz_bytes(members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


CAMERAS_TXT = "1 PINHOLE 64 48 50 50 32 24\n"
IMAGE_LINE = "{id} 1 0 0 0 0 0 5 {camera} {name}"


def images_txt(*lines: str) -> str:
    return "".join(line + "\n\n" for line in lines)


def write_model_text(folder: Path, cameras=CAMERAS_TXT, images=None) -> str:
    model = folder / "model"
    model.mkdir(exist_ok=True)
    images = images_txt(IMAGE_LINE.format(id=1, camera=1, name="a.jpg")) if images is None else images
    for name, text in (("cameras.txt", cameras), ("images.txt", images)):
        if text is not None:
            (model / name).write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return str(model)


def camera_record(camera_id=1, model_id=1, width=W, height=H, params=(50.0, 50.0, 32.0, 24.0)) -> bytes:
    return struct.pack("<iiQQ", camera_id, model_id, width, height) + struct.pack(f"<{len(params)}d", *params)


def image_record(image_id=1, q=(1.0, 0.0, 0.0, 0.0), t=(0.0, 0.0, 5.0), camera_id=1, name=b"a.jpg", points=0,
                 point_data: bytes | None = None) -> bytes:
    data = struct.pack("<i7di", image_id, *q, *t, camera_id) + name + b"\x00" + struct.pack("<Q", points)
    return data + (struct.pack("<ddq", 1.0, 2.0, -1) * points if point_data is None else point_data)


def write_model_binary(folder: Path, cameras: bytes | None = None, images: bytes | None = None) -> str:
    model = folder / "model"
    model.mkdir(exist_ok=True)
    cameras = struct.pack("<Q", 1) + camera_record() if cameras is None else cameras
    images = struct.pack("<Q", 1) + image_record() if images is None else images
    (model / "cameras.bin").write_bytes(cameras)
    (model / "images.bin").write_bytes(images)
    return str(model)


# -- 1. what is not a regular file, or too big: every format ------------------------------------------

TARGETS = {  # target -> (file name in the case folder, how to make the rest valid, what to read, the size cap)
    "json": ("cams.json", None, "cams.json", JSON_LIMIT),
    "npy": ("poses.npy", None, "poses.npy", POSE_LIMIT),
    "npz": ("poses.npz", None, "poses.npz", POSE_LIMIT),
    "cameras.txt": ("model/cameras.txt", "txt", "model", JSON_LIMIT),
    "images.txt": ("model/images.txt", "txt", "model", IMAGES_LIMIT),
    "cameras.bin": ("model/cameras.bin", "bin", "model", JSON_LIMIT),
    "images.bin": ("model/images.bin", "bin", "model", IMAGES_LIMIT),
}


def _prepare(folder: Path, target: str) -> Path:
    """The valid rest of the model (for a COLMAP member) and the target's path, which does not exist yet."""
    name, model, _, _ = TARGETS[target]
    if model == "txt":
        write_model_text(folder)
    elif model == "bin":
        write_model_binary(folder)
    path = folder / name
    if path.exists():
        path.unlink()
    return path


def _register_file_kinds(target: str) -> None:
    name, model, read, limit = TARGETS[target]
    blamed = name

    def reading(folder: Path) -> str:
        return str(folder / read)

    def fifo(folder):
        os.mkfifo(_prepare(folder, target))
        return reading(folder)

    def dev_zero(folder):
        os.symlink("/dev/zero", _prepare(folder, target))
        return reading(folder)

    def dev_null(folder):
        os.symlink("/dev/null", _prepare(folder, target))
        return reading(folder)

    def loop(folder):
        path = _prepare(folder, target)
        os.symlink(path.name + ".other", path)
        os.symlink(path.name, path.with_name(path.name + ".other"))
        return reading(folder)

    def dangling(folder):
        os.symlink("nowhere-" + Path(name).name, _prepare(folder, target))
        return reading(folder)

    def directory(folder):
        _prepare(folder, target).mkdir()
        return reading(folder)

    def oversized(folder):
        path = _prepare(folder, target)
        with open(path, "wb") as stream:
            stream.truncate(limit + 2**20)   # sparse: no disk is used
        return reading(folder)

    def unreadable(folder):
        path = _prepare(folder, target)
        path.write_text("{}")
        os.chmod(path, 0)
        return reading(folder)

    label = target.replace(".", "_")
    CASES.extend([
        Case(f"{label}-fifo", fifo, "is a FIFO (named pipe), not a regular file", blamed=blamed),
        Case(f"{label}-dev-zero", dev_zero, "is a character device, not a regular file", blamed=blamed),
        Case(f"{label}-dev-null", dev_null, "is a character device, not a regular file", blamed=blamed),
        Case(f"{label}-symlink-loop", loop, "cannot open (Too many levels of symbolic links)", blamed=blamed),
        Case(f"{label}-dangling-symlink", dangling, "no such file", blamed=blamed),
        Case(f"{label}-directory", directory, "is a folder without a COLMAP model" if model is None else
             "is a folder, not a regular file", blamed=blamed),
        Case(f"{label}-oversized", oversized, "camera files over", blamed=blamed),
        Case(f"{label}-unreadable", unreadable, "cannot open (Permission denied)", blamed=blamed, needs_non_root=True),
    ])


for _target in TARGETS:
    _register_file_kinds(_target)


@case("json-empty", "cannot read the JSON (the file is empty)")
def _(folder):
    return write_bytes(folder, b"", "cams.json")


@case("json-only-whitespace", "cannot read the JSON (the file is empty)")
def _(folder):
    return write_bytes(folder, b" \n\t\n", "cams.json")


@case("npy-empty", "is empty (0 bytes)")
def _(folder):
    return write_bytes(folder, b"", "poses.npy")


@case("npz-empty", "is empty (0 bytes)")
def _(folder):
    return write_bytes(folder, b"", "poses.npz")


@case("cameras_txt-empty", "camera 1 is not in the cameras file", "image 1 (a.jpg)", blamed="model/images.txt")
def _(folder):
    return write_model_text(folder, cameras="")


@case("images_txt-empty", "the model holds no images", blamed="model/images.txt")
def _(folder):
    return write_model_text(folder, images="")


@case("cameras_bin-empty", "the file ends early (truncated?)", blamed="model/cameras.bin")
def _(folder):
    return write_model_binary(folder, cameras=b"")


@case("images_bin-empty", "the file ends early (truncated?)", blamed="model/images.bin")
def _(folder):
    return write_model_binary(folder, images=b"")


# -- 2. JSON that is not what a camera file can be ----------------------------------------------------

JSON_SYNTAX = {
    "garbage-bytes": (b"\x00\x01\xfe\xff\x00", "cannot read the JSON"),
    "latin-1": ('{"frames": "caf\xe9"}'.encode("latin-1"), "cannot read the JSON"),
    "truncated": (json.dumps(transforms()).encode()[:100], "cannot read the JSON ("),
    "array": (b"[1, 2]", "is not a JSON object"),
    "string": (b'"frames"', "is not a JSON object"),
    "number": (b"42", "is not a JSON object"),
    "null": (b"null", "is not a JSON object"),
    "nested-arrays": (b"[" * 100_000 + b"]" * 100_000, "cannot read the JSON (nested too deeply)"),
    "nested-objects": (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "cannot read the JSON (nested too deeply)"),
    "nested-in-frames": (b'{"frames": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    "huge-integer": (b'{"fl_x": 1' + b"0" * 5000 + b', "frames": []}', "cannot read the JSON (Exceeds the limit"),
    "too-many-containers": (lambda: b'{"frames": [' + b"[]," * (32 * MAX_VIEWS) + b"[]]}",
                            "holds more JSON values than a camera file of 100000 views"),
    "too-many-values": (lambda: b'{"frames": [' + b"0," * (128 * MAX_VIEWS + 1) + b"0]}",
                        "holds more JSON values than a camera file of 100000 views"),
    "neither-format": (b'{"views": 3}', "neither a transforms.json (no 'frames') nor a Depth Views cameras.json"),
    "utf-16-broken": ('{"frames": 1'.encode("utf-16-le") + b"\x00\xd8", "cannot read the JSON"),
}
for _name, (_data, _problem) in JSON_SYNTAX.items():
    CASES.append(Case(f"json-{_name}", lambda folder, data=_data: write_bytes(folder, data() if callable(data) else data,
                                                                          "cams.json"), _problem))


@case("json-nan-literal", "fl_x is nan; it must be positive and finite", "frame 0 (images/f0.png)")
def _(folder):
    return write_json(folder, transforms(fl_x=float("nan")))


@case("json-infinity-literal", "w is inf; it must be positive and finite", "frame 0 (images/f0.png)")
def _(folder):
    return write_json(folder, transforms(w=float("inf")))


# -- 3. transforms.json (nerfstudio / instant-ngp / NeRF-synthetic) ------------------------------------

F1 = "frame 1 (images/f1.png)"
TRANSFORMS = {  # name: (document, problem, where, views?)
    "frames-not-a-list": (transforms(frames={"a": 1}), "no 'frames' list", "", False),
    "frames-empty": (transforms(frames=[]), "the file holds no frames (empty 'frames' list)", "", False),
    "frame-number": (transforms(frames=[5]), "frame 0: is not an object", "", False),
    "frame-string": (transforms(frames=["f.png"]), "frame 0: is not an object", "", False),
    "frame-null": (transforms(frames=[None]), "frame 0: is not an object", "", False),
    "frame-list": (transforms(frames=[[1, 2]]), "frame 0: is not an object", "", False),
    "no-transform-matrix": (transforms_with(1, transform_matrix=...), "no transform_matrix", F1, False),
    "matrix-string": (transforms_with(1, transform_matrix="eye"), "the pose is not a 4x4 matrix of numbers", F1, False),
    "matrix-ragged": (transforms_with(1, transform_matrix=[[1, 0, 0, 0], [0, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1]]),
                      "the pose is not a 4x4 matrix of numbers", F1, False),
    "matrix-3x3": (transforms_with(1, transform_matrix=np.eye(3).tolist()), "the pose has shape (3, 3), not 4x4", F1,
                   False),
    "matrix-4d": (transforms_with(1, transform_matrix=[[[[1.0]]]]), "the pose has shape (1, 1, 1, 1), not 4x4", F1, False),
    "matrix-object": (transforms_with(1, transform_matrix={"rows": 4}), "the pose is not a 4x4 matrix of numbers", F1,
                      False),
    "matrix-huge-integer": (transforms_with(1, transform_matrix=[[10**400, 0, 0, 0]] + np.eye(4)[1:].tolist()),
                            "the pose is not a 4x4 matrix of numbers", F1, False),
    "matrix-nan": (transforms_with(1, transform_matrix=[[float("nan")] * 4] * 4), "the pose has NaN or infinite entries",
                   F1, False),
    "matrix-inf": (transforms_with(1, transform_matrix=[[1, 0, 0, float("inf")], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]),
                   "the pose has NaN or infinite entries", F1, False),
    "translation-1e300": (transforms_with(1, transform_matrix=pose((1e300, 0, 0))),
                          "the camera sits 1e+300 scene units from the origin", F1, False),
    "translation-2e9": (transforms_with(1, transform_matrix=pose((0, 2e9, 0))),
                        "the camera sits 2e+09 scene units from the origin", F1, False),
    "matrix-scaled": (transforms_with(1, transform_matrix=(np.diag([2.0, 2.0, 2.0, 1.0])).tolist()),
                      "the pose's 3x3 part is not a rotation", F1, False),
    "matrix-mirror": (transforms_with(1, transform_matrix=np.diag([-1.0, 1.0, 1.0, 1.0]).tolist()),
                      "the pose's 3x3 part is not a rotation", F1, False),
    "matrix-singular": (transforms_with(1, transform_matrix=np.diag([0.0, 0.0, 0.0, 1.0]).tolist()),
                        "the pose's 3x3 part is not a rotation", F1, False),
    "matrix-last-row": (transforms_with(1, transform_matrix=np.eye(4)[[0, 1, 2, 2]].tolist()),
                        "the pose's last row is [0.0, 0.0, 1.0, 0.0], not [0, 0, 0, 1]", F1, False),
    "fl_x-zero": (transforms_with(1, fl_x=0), "fl_x is 0; it must be positive and finite", F1, False),
    "fl_x-negative": (transforms_with(1, fl_x=-50), "fl_x is -50; it must be positive and finite", F1, False),
    "fl_x-string": (transforms_with(1, fl_x="fifty"), "fl_x is 'fifty', not a number", F1, False),
    "fl_x-list": (transforms_with(1, fl_x=[50]), "fl_x is [50], not a number", F1, False),
    "fl_x-object": (transforms_with(1, fl_x={"px": 50}), "fl_x is {'px': 50}, not a number", F1, False),
    "fl_x-1e308": (transforms_with(1, fl_x=1e308), "fl_x is 1e+308 pixels; focal lengths go up to 1e+08", F1, False),
    "fl_x-1e308-and-cy": (transforms_with(1, fl_x=1e308, cy=-1e300), "fl_x is 1e+308 pixels", F1, False),
    "fl_y-tiny": (transforms_with(1, fl_y=0.1), "focal lengths fx 50 and fy 0.1 differ by more than 200 times", F1, True),
    "w-missing-h-given": (transforms(w=None), "gives h but not w; give both (the image size) or neither",
                          "frame 0 (images/f0.png)", False),
    "h-missing-w-given": (transforms(h=None), "gives w but not h", "frame 0 (images/f0.png)", False),
    "w-null-in-frame": (transforms_with(1, w=None), "gives h but not w", F1, False),
    "w-zero": (transforms_with(1, w=0), "w is 0; it must be positive and finite", F1, False),
    "w-negative": (transforms_with(1, w=-64), "w is -64; it must be positive and finite", F1, False),
    "w-fraction": (transforms_with(1, w=64.5), "w is 64.5, not a whole number of pixels", F1, False),
    "w-string": (transforms_with(1, w="wide"), "w is 'wide', not a number", F1, False),
    "h-1e9": (transforms_with(1, h=10**9), "h is 1000000000 pixels; Blender renders at most 65536 per side", F1, False),
    "h-1e9-and-cx": (transforms_with(1, h=10**9, cx=1e300), "h is 1000000000 pixels", F1, False),
    "w-huge-integer": (transforms_with(1, w=10**400), "w is 1000", F1, False),
    "cx-without-size-or-image": (transforms(w=None, h=None),
                                 "fl_x, fl_y, cx, cy are in pixels of an image size the file does not give "
                                 "(no w and h, no image images/f0.png beside the file); add w and h",
                                 "frame 0 (images/f0.png)", False),
    "camera_angle_x-pi": (transforms(fl_x=None, fl_y=None, camera_angle_x=math.pi),
                          "camera_angle_x 3.14159 rad is not below pi", "frame 0", False),
    "camera_angle_x-negative": (transforms(fl_x=None, fl_y=None, camera_angle_x=-0.5),
                                "camera_angle_x is -0.5; it must be positive and finite", "frame 0", False),
    "camera_angle_x-tiny": (transforms(fl_x=None, fl_y=None, camera_angle_x=1e-300),
                            "the focal length from camera_angle_x is 6.4e+301 pixels", "frame 0", False),
    "camera_angle_y-pi": (transforms(fl_y=None, camera_angle_y=4.0), "camera_angle_y 4 rad is not below pi", "frame 0",
                          False),
    "no-focal-length": (transforms(fl_x=None, fl_y=None), "no focal length (fl_x or camera_angle_x)", "frame 0", False),
    "cx-nan": (transforms_with(1, cx=float("nan")), "cx is nan; it must be finite", F1, False),
    "cx-string": (transforms_with(1, cx="centre"), "cx is 'centre', not a number", F1, False),
    "cx-1e300": (transforms_with(1, cx=1e300), "principal point (1e+300, 23.5) is more than 10 image widths", F1, True),
    "k1-nan": (transforms_with(1, k1=float("nan")), "k1 is nan; it must be finite", F1, False),
    "k1-folds-at-the-centre": (transforms_with(1, k1=-1e6), "camera model OPENCV: the distortion has no exact inverse "
                               "within one pixel of the principal point", F1, True),
    "distortion_params-short": (transforms(distortion_params=[0.1, 0.0]),
                                "distortion_params is not a list of 6 numbers [k1, k2, k3, k4, p1, p2]", "frame 0", False),
    "distortion_params-inf": (transforms(distortion_params=[0.1, 0.0, 0.0, float("inf"), 0.0, 0.0]),
                              "distortion_params k4 is inf; it must be finite", "frame 0", False),
    "model-unknown": (transforms(camera_model="KANNALA"), "unknown camera model 'KANNALA'", "frame 0", True),
    "model-list": (transforms(camera_model=["OPENCV"]), "unknown camera model \"['OPENCV']\"", "frame 0", True),
    "model-fisheye-mixed": (transforms_with(1, camera_model="OPENCV_FISHEYE"),
                            "camera model OPENCV_FISHEYE mixed with pinhole frames", F1, True),
    "model-thin-prism": (transforms(camera_model="THIN_PRISM_FISHEYE"),
                         "nerfstudio camera_model 'THIN_PRISM_FISHEYE' has no lens model here", "frame 0", True),
    "fisheye-distorted-mixed-with-equirectangular": (
        {**transforms(camera_model="OPENCV_FISHEYE", fl_x=W / math.pi, fl_y=H / math.pi, k2=0.01),
         "frames": transforms_with(2, camera_model="EQUIRECTANGULAR")["frames"]},
        "camera model EQUIRECTANGULAR mixed with lens models", "frame 2 (images/f2.png)", True),
    "sizes-differ": (transforms_with(1, w=80), "image size 80x48 differs from the first frame's 64x48", F1, True),
    "too-many-frames": (transforms(frames=[{}] * (MAX_VIEWS + 1)), "holds 100001 frames; at most 100000 per render",
                        "", False),
    "name-with-newline": (transforms(frames=[{"file_path": "a\nb\r.png"}]), "frame 0 (a\\nb\\r.png): no transform_matrix",
                          "", False),
    "name-of-a-megabyte": (transforms(frames=[{"file_path": "x" * 2**20}]), "frame 0 (" + "x" * 200 + "...)", "", False),
    "name-with-nul": (transforms(w=None, h=None, frames=[{"file_path": "a\x00b", "transform_matrix": pose()}]),
                      "frame 0 (a\\x00b): fl_x, fl_y, cx, cy are in pixels", "", False),
}
for _name, (_document, _problem, _where, _views) in TRANSFORMS.items():
    CASES.append(Case(f"transforms-{_name}", lambda folder, d=_document: write_json(folder, d, "transforms.json"),
                      _problem, _where, views=_views))


@case("transforms-no-size-no-default", "no image size (w, h) and no image to take it from", "frame 0",
      default_size=None)
def _(folder):
    return write_json(folder, {"camera_angle_x": 0.7, "frames": [{"file_path": "r_0", "transform_matrix": pose()}]},
                      "transforms_train.json")


@case("transforms-image-not-an-image", "no image size (w, h) and no image to take it from", "frame 0 (r_0)",
      default_size=None)
def _(folder):
    (folder / "r_0.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    return write_json(folder, {"camera_angle_x": 0.7, "frames": [{"file_path": "r_0", "transform_matrix": pose()}]},
                      "transforms_train.json")


@case("transforms-image-is-a-fifo", "no image size (w, h) and no image to take it from", "frame 0 (r_0)",
      default_size=None)
def _(folder):
    os.mkfifo(folder / "r_0.png")   # never opened: only a regular file's header is read
    return write_json(folder, {"camera_angle_x": 0.7, "frames": [{"file_path": "r_0", "transform_matrix": pose()}]},
                      "transforms_train.json")


# -- 4. our cameras.json ------------------------------------------------------------------------------

V0, V1 = "frame 0 (depth/0000.exr)", "frame 1 (depth/0001.exr)"
OWN = {  # name: (document, problem, where, views?)
    "views-not-a-list": (own_cameras(views={"0": {}}), "no 'views' list", "", False),
    "views-empty": (own_cameras(views=[]), "no views", "", False),
    "view-number": (own_cameras(views=[1]), "view 0: is not an object", "", False),
    "view-string": (own_cameras(views=["view"]), "view 0: is not an object", "", False),
    "view-null": (own_cameras(views=[None]), "view 0: is not an object", "", False),
    "view-list": (own_cameras(views=[[]]), "view 0: is not an object", "", False),
    "world_to_camera-missing": (own_with(1, world_to_camera=...), "no world_to_camera", V1, False),
    "world_to_camera-ragged": (own_with(1, world_to_camera=[[1, 0, 0, 0], [0, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1]]),
                               "view 1: world_to_camera is not a matrix of numbers", "", False),
    "world_to_camera-singular": (own_with(1, world_to_camera=np.diag([0.0, 0.0, 0.0, 1.0]).tolist()),
                                 "the pose's 3x3 part is not a rotation", V1, False),
    "world_to_camera-zeros": (own_with(1, world_to_camera=np.zeros((4, 4)).tolist()),
                              "the pose's last row is [0.0, 0.0, 0.0, 0.0]", V1, False),
    "world_to_camera-scaled": (own_with(1, world_to_camera=np.diag([3.0, 3.0, 3.0, 1.0]).tolist()),
                               "the pose's 3x3 part is not a rotation", V1, False),
    "world_to_camera-nan": (own_with(1, world_to_camera=[[float("nan")] * 4] * 4),
                            "view 1: world_to_camera has NaN or infinite entries", "", False),
    "world_to_camera-3x4": (own_with(1, world_to_camera=np.eye(4)[:3].tolist()),
                            "view 1: world_to_camera has shape (3, 4), not 4x4", "", False),
    "world_to_camera-1e300": (own_with(1, world_to_camera=pose((0, 0, 1e300))), "the camera sits 1e+300 scene units",
                              V1, False),
    "world_to_camera-strings": (own_with(1, world_to_camera=[["a"] * 4] * 4),
                                "view 1: world_to_camera is not a matrix of numbers", "", False),
    "K-strings": (own_cameras(K=[["fx", 0, 1], [0, "fy", 1], [0, 0, 1]]), "K is not a matrix of numbers", "", False),
    "K-object": (own_cameras(K={"fx": 50}), "K is not a matrix of numbers", "", False),
    "K-2x2": (own_with(0, K=[[50, 0], [0, 50]]), "view 0: K has shape (2, 2), not 3x3", "", False),
    "K-null-pinhole": (own_cameras(K=None), "no 3x3 K", V0, False),
    "K-fx-zero": (own_cameras(K=[[0.0, 0, 31.5], [0, 50.0, 23.5], [0, 0, 1]]), "fx is 0.0; it must be positive", V0,
                  False),
    "K-fx-1e308": (own_cameras(K=[[1e308, 0, 31.5], [0, 50.0, 23.5], [0, 0, 1]]), "fx is 1e+308 pixels", V0, False),
    "K-nan": (own_cameras(K=[[float("nan"), 0, 31.5], [0, 50.0, 23.5], [0, 0, 1]]), "K has NaN or infinite entries", "",
              False),
    "width-missing": (own_cameras(width=None), "width is None, not a number", V0, False),
    "width-1e9": (own_cameras(width=10**9), "width is 1000000000 pixels", V0, False),
    "height-string": (own_cameras(height="tall"), "height is 'tall', not a number", V0, False),
    "model-unknown": (own_cameras(camera_model="FOO"), "unknown camera model 'FOO'", V0, True),
    "lens-model-unknown": (own_cameras(camera_model="FOO", lens_params=[50.0, 32.0, 24.0]),
                           "lens_params for camera model 'FOO', which is no lens model", V0, False),
    "lens_params-count": (own_cameras(camera_model="OPENCV", lens_params=[50.0, 50.0, 32.0, 24.0, 0.1]),
                          "camera model OPENCV needs 8 lens_params (fx fy cx cy k1 k2 p1 p2), got 5", V0, False),
    "lens_params-nan": (own_with(1, camera_model="RADIAL", lens_params=[50.0, 32.0, 24.0, float("nan"), 0.0]),
                        "k1 is nan; it must be finite", "frame 1", False),
    "lens_params-text": (own_cameras(camera_model="OPENCV", lens_params="50 50 32 24 0 0 0 0"),
                         "camera model OPENCV needs 8 lens_params (fx fy cx cy k1 k2 p1 p2), got not a list", V0, False),
    "equirectangular-range-text": (own_cameras(camera_model="EQUIRECTANGULAR", K=None, longitude_range_deg="x"),
                                   "longitude_range_deg is not two numbers LOW HIGH (degrees)", V0, False),
    "equirectangular-range-nan": (own_cameras(camera_model="EQUIRECTANGULAR", K=None,
                                              latitude_range_deg=[float("nan"), 10]),
                                  "latitude_range_deg is nan; it must be finite", V0, False),
    "equirectangular-range-empty": (own_cameras(camera_model="EQUIRECTANGULAR", K=None, latitude_range_deg=[10, 10]),
                                    "--latitude-range 10 10: the range is empty", V0, True),
    "too-many-views": (own_cameras(views=[{}] * (MAX_VIEWS + 1)), "holds 100001 views; at most 100000 per render", "",
                       False),
    "object_to_world-text": (own_cameras(object_to_world="identity"), "object_to_world is not a matrix of numbers", "",
                             False),
    "position-2": (own_with(0, position=[1, 2]), "view 0: position has shape (2,), not 3", "", False),
    "camera_to_world-ragged": (own_with(0, camera_to_world=[[1, 2], [3]]), "view 0: camera_to_world is not a matrix",
                               "", False),
    "source-with-newline": (own_with(0, source="x\ny", world_to_camera=...), "frame 0 (x\\ny): no world_to_camera", "",
                            False),
    "files-a-list": (own_with(1, files=["d.exr"], world_to_camera=...), "frame 1: no world_to_camera", "", False),
}
for _name, (_document, _problem, _where, _views) in OWN.items():
    CASES.append(Case(f"cameras_json-{_name}", lambda folder, d=_document: write_json(folder, d, "cameras.json"),
                      _problem, _where, views=_views))


# -- 5. .npy / .npz -----------------------------------------------------------------------------------

def _header(descr="<f8", shape=(3, 4, 4), fortran="False") -> str:
    return f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}"


def _float16(array):
    with np.errstate(over="ignore"):
        return array.astype(np.float16)   # 1e6 does not fit: inf


def _bad_pose(index, entries):
    array = poses()
    for (row, column), value in entries.items():
        array[index, row, column] = value
    return array


NPY = {  # name: (bytes, problem, where)
    "text": (b"not an array at all", "is neither a .npy array nor a .npz archive (pickles are never loaded)", ""),
    "pickle": (b"\x80\x04\x95" + b"\x00" * 20, "is neither a .npy array nor a .npz archive", ""),
    "magic-only": (b"\x93NUMPY\x01", "not a valid .npy array header", ""),
    "header-not-a-dict": (npy_bytes(header="[1, 2, 3]"), "not a valid .npy array header", ""),
    "header-code": (npy_bytes(header="__import__('os').system('true')"), "not a valid .npy array header", ""),
    "header-no-shape": (npy_bytes(header="{'descr': '<f8', 'fortran_order': False, }"),
                        "not a valid .npy array header", ""),
    "header-too-long": (npy_bytes(header=_header() + " " * 60_000, version=(2, 0)), "not a valid .npy array header",
                        ""),
    "version-3": (npy_bytes(header=_header(), version=(3, 0)), ".npy format version 3.0 is not supported", ""),
    "version-9": (npy_bytes(header=_header(), version=(9, 1)), ".npy format version 9.1 is not supported", ""),
    "claims-1e12-poses": (npy_bytes(header=_header(shape=(10**12, 4, 4))),
                          "holds 1000000000000 poses; at most 100000 per render", ""),
    "claims-100001-poses": (npy_bytes(header=_header(shape=(MAX_VIEWS + 1, 4, 4))), "holds 100001 poses", ""),
    "claims-huge-columns": (npy_bytes(header=_header(shape=(1, 4, 10**12))), "poses have shape (1, 4, 1000000000000)",
                            ""),
    "negative-shape": (npy_bytes(header=_header(shape=(-1, 4, 4))), "the file holds no poses", ""),
    "zero-poses": (npy_bytes(np.zeros((0, 4, 4))), "the file holds no poses", ""),
    "truncated-data": (npy_bytes(poses())[:-100], "ends early: its header promises 3 poses (384 bytes), but 284 bytes "
                                                  "follow", ""),
    "complex128": (npy_bytes(poses() + 1e-3j), "holds complex numbers (complex128); poses must be real", ""),
    "complex64": (npy_bytes(poses().astype(np.complex64)), "holds complex numbers (complex64)", ""),
    "object": (npy_bytes(header=_header(descr="|O")), "holds Python objects (pickle), which Depth Views never loads", ""),
    "strings": (npy_bytes(np.full((1, 4, 4), "1.0")), "holds <U3 values, not numbers", ""),
    "bool": (npy_bytes(np.ones((1, 4, 4), bool)), "holds bool values, not numbers", ""),
    "datetime": (npy_bytes(np.zeros((1, 4, 4), "datetime64[s]")), "holds datetime64[s] values, not numbers", ""),
    "structured": (npy_bytes(np.zeros((1, 4, 4), [("a", "<f8")])), "values, not numbers", ""),
    "shape-4x5": (npy_bytes(np.zeros((2, 4, 5))), "poses have shape (2, 4, 5); expected (N, 4, 4)", ""),
    "shape-flat": (npy_bytes(np.zeros(16)), "poses have shape (16,); expected (N, 4, 4)", ""),
    "nan": (npy_bytes(_bad_pose(1, {(0, 0): np.nan})), "the pose has NaN or infinite entries", "pose 1"),
    "inf": (npy_bytes(_bad_pose(2, {(2, 3): np.inf})), "the pose has NaN or infinite entries", "pose 2"),
    "translation-1e300": (npy_bytes(_bad_pose(0, {(0, 3): 1e300})), "the camera sits 1e+300 scene units", "pose 0"),
    "not-a-rotation": (npy_bytes(_bad_pose(0, {(0, 0): 2.0})), "the pose's 3x3 part is not a rotation", "pose 0"),
    "float16-overflow": (npy_bytes(_float16(_bad_pose(1, {(0, 3): 1e6}))),
                         "the pose has NaN or infinite entries", "pose 1"),
}
for _name, (_data, _problem, _where) in NPY.items():
    CASES.append(Case(f"npy-{_name}", lambda folder, d=_data: write_bytes(folder, d, "poses.npy"), _problem, _where))


def _zip_with_flag(data: bytes, *, flag=None, method=None) -> bytes:
    """``data`` (a one-member stored zip) with the member's general-purpose flag or method changed in both
    its local header (offset 6, 8) and its central directory entry (offset 8, 10)."""
    data = bytearray(data)
    central = data.rfind(b"PK\x01\x02")
    for offset, value in ((6, flag), (8, method)):
        if value is not None:
            struct.pack_into("<H", data, offset, value)
            struct.pack_into("<H", data, central + offset + 2, value)
    return bytes(data)


def _bomb() -> bytes:
    """A deflated member whose valid header is followed by 64 MB of zeros (about 64 KB compressed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("poses.npy", "w", force_zip64=True) as member:
            member.write(npy_bytes(header=_header(shape=(3, 4, 4))))
            for _ in range(64):
                member.write(bytes(2**20))
    return buffer.getvalue()


_GOOD_NPY = npy_bytes(poses())
_BAD_CRC = bytearray(npz_bytes({"poses.npy": _GOOD_NPY}))
_BAD_CRC[_BAD_CRC.find(_GOOD_NPY) + len(_GOOD_NPY) - 3] ^= 0xFF
NPZ = {
    "bad-zip": (b"PK\x03\x04 not really a zip archive", "not a valid .npz archive (File is not a zip file)", ""),
    "truncated": (npz_bytes({"poses.npy": _GOOD_NPY})[:200], "not a valid .npz archive", ""),
    "no-members": (npz_bytes({}), "is neither a .npy array nor a .npz archive", ""),
    "two-arrays": (npz_bytes({"a.npy": _GOOD_NPY, "b.npy": _GOOD_NPY}),
                   "holds 2 arrays (a, b); name the poses array 'poses'", ""),
    "thousand-arrays": (npz_bytes({f"a{i}.npy": b"" for i in range(1000)}), "holds 1000 arrays (a0, a1, a2, a3, a4, ...)",
                        ""),
    "member-pickle": (npz_bytes({"poses.npy": b"\x80\x04\x95 pickled"}), "not a valid .npy array header", "array poses"),
    "member-complex": (npz_bytes({"poses.npy": npy_bytes(poses() * 1j)}), "holds complex numbers", "array poses"),
    "member-object": (npz_bytes({"poses.npy": npy_bytes(header=_header(descr="|O"))}), "holds Python objects",
                      "array poses"),
    "member-claims-1e12": (npz_bytes({"poses.npy": npy_bytes(header=_header(shape=(10**12, 4, 4)))},
                                     zipfile.ZIP_DEFLATED), "holds 1000000000000 poses", "array poses"),
    "member-truncated": (npz_bytes({"poses.npy": _GOOD_NPY[:-50]}), "ends early", "array poses"),
    "member-encrypted": (_zip_with_flag(npz_bytes({"poses.npy": _GOOD_NPY}), flag=1), "is encrypted", ""),
    "member-unknown-compression": (_zip_with_flag(npz_bytes({"poses.npy": _GOOD_NPY}), method=99),
                                   "compression method is not supported", ""),
    "member-bad-crc": (bytes(_BAD_CRC), "Bad CRC-32", ""),
    "member-named-poses-among-others": (npz_bytes({"extra.npy": b"junk", "poses.npy": npy_bytes(_bad_pose(1, {(3, 3): 0.0}))}),
                                        "the pose's last row is [0.0, 0.0, 0.0, 0.0]", "pose 1"),
    "zip-bomb": (None, "the pose's last row is [0.0, 0.0, 0.0, 0.0]", "pose 0"),
}
for _name, (_data, _problem, _where) in NPZ.items():
    CASES.append(Case(f"npz-{_name}", lambda folder, d=_data: write_bytes(folder, _bomb() if d is None else d, "poses.npz"),
                      _problem, _where))


@case("npy-named-npz-but-npy", "the pose has NaN or infinite entries", "pose 0")
def _(folder):
    return write_bytes(folder, npy_bytes(_bad_pose(0, {(1, 1): np.nan})), "poses.npz")


@case("npy-bad-pose-convention", "--pose-convention 'blender': choose one of opengl, opencv, opencv_w2c",
      pose_convention="blender")
def _(folder):
    return write_bytes(folder, _GOOD_NPY, "poses.npy")


@case("npy-w2c-1e300", "the camera sits 1e+300 scene units", "pose 2", pose_convention="opencv_w2c")
def _(folder):
    return write_bytes(folder, npy_bytes(_bad_pose(2, {(1, 3): -1e300})), "poses.npy")


# -- 6. COLMAP text -----------------------------------------------------------------------------------

A = IMAGE_LINE.format(id=1, camera=1, name="a.jpg")
B = IMAGE_LINE.format(id=2, camera=1, name="b.jpg")
COLMAP_TEXT = {  # name: (cameras.txt, images.txt, blamed file, problem, where)
    "camera-too-few-items": ("1 PINHOLE 64\n", None, "cameras.txt", "needs CAMERA_ID MODEL WIDTH HEIGHT PARAMS...",
                             "line 1"),
    "camera-id-text": ("one PINHOLE 64 48 50 50 32 24\n", None, "cameras.txt", "CAMERA_ID one is not an integer",
                       "line 1"),
    "camera-unknown-model": ("1 WEIRD 64 48 1 2 3\n", None, "cameras.txt", "unknown COLMAP camera model 'WEIRD'",
                             "camera 1"),
    "camera-parameter-count": ("1 PINHOLE 64 48 50 50\n", None, "cameras.txt",
                               "camera model PINHOLE needs 4 parameters, got 2", "camera 1"),
    "camera-nan": ("1 PINHOLE 64 48 50 50 nan 24\n", None, "cameras.txt", "cx is 'nan'; it must be finite", "camera 1"),
    "camera-width-zero": ("1 PINHOLE 0 48 50 50 32 24\n", None, "cameras.txt", "width is '0'; it must be positive",
                          "camera 1"),
    "camera-width-1e9": ("1 PINHOLE 1000000000 48 50 50 32 24\n", None, "cameras.txt", "width is 1000000000 pixels",
                         "camera 1"),
    "camera-focal-1e308": ("1 SIMPLE_PINHOLE 64 48 1e308 1e300 24\n", None, "cameras.txt", "f is 1e+308 pixels",
                           "camera 1"),
    "camera-twice": ("1 PINHOLE 64 48 50 50 32 24\n1 PINHOLE 80 60 50 50 40 30\n", None, "cameras.txt",
                     "is defined twice (lines 1 and 2)", "camera 1"),
    "camera-not-utf8": (b"1 PINHOLE 64 48 50 50 32 24 \xff\xfe\n", None, "cameras.txt", "is not UTF-8 text", "line 1"),
    "camera-line-of-2-mib": ("1 PINHOLE 64 48 50 50 32 24" + " 0" * 2**20 + "\n", None, "cameras.txt",
                             "is longer than 1048576 bytes", "line 1"),
    "camera-header-count": ("# Number of cameras: 5\n" + CAMERAS_TXT, None, "cameras.txt",
                            "its header says 'Number of cameras: 5' but it holds 1 cameras", ""),
    "too-many-cameras": (lambda: "".join(f"{i} PINHOLE 64 48 50 50 32 24\n" for i in range(MAX_VIEWS + 1)), None,
                         "cameras.txt",
                         "holds 100001 cameras; at most 100000 per render", ""),
    "images-none": (CAMERAS_TXT, "# no images\n", "images.txt", "the model holds no images", ""),
    "images-only-blank-lines": (CAMERAS_TXT, "\n\n\n\n", "images.txt", "the model holds no images", ""),
    "image-neither-line": (CAMERAS_TXT, f"{A}\nnot points\n{B}\n\n", "images.txt",
                           "is neither the POINTS2D line of image 1", "line 2"),
    "image-twice": (CAMERAS_TXT, images_txt(A, B, A), "images.txt",
                    "appears twice (line 1: a.jpg and line 5: a.jpg)", "image 1"),
    "image-camera-missing": (CAMERAS_TXT, images_txt(IMAGE_LINE.format(id=1, camera=7, name="a.jpg")), "images.txt",
                             "camera 7 is not in the cameras file", "image 1 (a.jpg)"),
    "image-quaternion-zero": (CAMERAS_TXT, images_txt("1 0 0 0 0 0 0 5 1 a.jpg"), "images.txt",
                              "quaternion [0.0, 0.0, 0.0, 0.0] is not a rotation (norm 0)", "image 1 (a.jpg)"),
    "image-quaternion-huge": (CAMERAS_TXT, images_txt("1 1e300 0 0 0 0 0 5 1 a.jpg"), "images.txt",
                              "is not a rotation (norm 1e+300)", "image 1 (a.jpg)"),
    "image-quaternion-nan": (CAMERAS_TXT, images_txt("1 nan 0 0 0 0 0 5 1 a.jpg"), "images.txt",
                             "quaternion is 'nan'; it must be finite", "image 1 (a.jpg)"),
    "image-translation-1e300": (CAMERAS_TXT, images_txt("1 1 0 0 0 1e300 0 5 1 a.jpg"), "images.txt",
                                "the camera sits 1e+300 scene units", "image 1 (a.jpg)"),
    "image-translation-inf": (CAMERAS_TXT, images_txt("1 1 0 0 0 inf 0 5 1 a.jpg"), "images.txt",
                              "translation is 'inf'; it must be finite", "image 1 (a.jpg)"),
    "image-too-few-items": (CAMERAS_TXT, images_txt("1 1 0 0 0 0 0 5 1"), "images.txt",
                            "needs IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME", "line 1"),
    "image-id-text": (CAMERAS_TXT, images_txt("a 1 0 0 0 0 0 5 1 a.jpg"), "images.txt",
                      "IMAGE_ID and CAMERA_ID must be integers", "line 1"),
    "image-line-of-2-mib": (CAMERAS_TXT, images_txt("1 1 0 0 0 0 0 5 1 " + "n" * 2**21), "images.txt",
                            "is longer than 1048576 bytes", "line 1"),
    "image-not-utf8": (CAMERAS_TXT, b"1 1 0 0 0 0 0 5 1 \xff.jpg\n\n", "images.txt", "is not UTF-8 text", "line 1"),
    "image-header-count": (CAMERAS_TXT, "# Number of images: 9, mean observations per image: 0\n" + images_txt(A),
                           "images.txt", "its header says 'Number of images: 9' but it holds 1 images", ""),
    "too-many-images": (CAMERAS_TXT, lambda: "".join(IMAGE_LINE.format(id=i, camera=1, name=f"{i}.jpg") + "\n"
                                                     for i in range(MAX_VIEWS + 1)), "images.txt",
                        "holds 100001 images; at most 100000 per render", ""),
    "image-name-with-bell": (CAMERAS_TXT, images_txt(IMAGE_LINE.format(id=1, camera=7, name="a\x07b.jpg")),
                             "images.txt", "camera 7 is not in the cameras file", "image 1 (a\\x07b.jpg)"),
    "image-after-a-huge-points-line": (CAMERAS_TXT, A + "\n" + " 1.5 2.5 -1" * 300_000 + "\n" +
                                       IMAGE_LINE.format(id=2, camera=9, name="b.jpg") + "\n\n", "images.txt",
                                       "camera 9 is not in the cameras file", "image 2 (b.jpg)"),
}
for _name, (_cameras, _images, _blamed, _problem, _where) in COLMAP_TEXT.items():
    CASES.append(Case(f"colmap_text-{_name}", lambda folder, c=_cameras, i=_images: write_model_text(
        folder, c() if callable(c) else c, i() if callable(i) else i),
                      _problem, _where, blamed=f"model/{_blamed}"))


@case("colmap_text-distortion-folds-at-the-centre", "camera model OPENCV: the distortion has no exact inverse within "
      "one pixel of the principal point", "frame 0 (a.jpg)", blamed="model/images.txt", views=True)
def _(folder):
    return write_model_text(folder, "1 OPENCV 64 48 50 50 32 24 -1e6 0 0 0\n")


@case("colmap_text-fov-parameters", "camera model FOV needs 5 parameters, got 6", "camera 1", blamed="model/cameras.txt")
def _(folder):
    return write_model_text(folder, "1 FOV 64 48 50 50 32 24 0.1 0.2\n")


@case("colmap_text-eucm", "unknown COLMAP camera model 'EUCM'", "camera 1", blamed="model/cameras.txt")
def _(folder):
    return write_model_text(folder, "1 EUCM 64 48 50 50 32 24 0.5 1.0\n")


# -- 7. COLMAP binary ---------------------------------------------------------------------------------

Q = struct.Struct("<Q")
COLMAP_BINARY = {  # name: (cameras.bin, images.bin, blamed, problem, where)
    "cameras-count-2^63": (Q.pack(2**63) + camera_record(), None, "cameras.bin",
                           "holds 9223372036854775808 cameras; at most 100000", ""),
    "cameras-count-200000": (Q.pack(200_000), None, "cameras.bin", "holds 200000 cameras", ""),
    "cameras-count-vs-size": (Q.pack(5) + camera_record(), None, "cameras.bin",
                              "its header says 5 cameras, but 64 bytes cannot hold them (truncated?)", ""),
    "cameras-truncated-parameters": (Q.pack(2) + camera_record() + camera_record()[:-8], None, "cameras.bin",
                                     "the file ends early (truncated?)", ""),
    "cameras-unknown-model": (Q.pack(1) + camera_record(model_id=99), None, "cameras.bin",
                              "unknown COLMAP camera model id 99", "camera 1"),
    "cameras-negative-model": (Q.pack(1) + camera_record(model_id=-1), None, "cameras.bin",
                               "unknown COLMAP camera model id -1", "camera 1"),
    "cameras-width-zero": (Q.pack(1) + camera_record(width=0), None, "cameras.bin", "width is 0; it must be positive",
                           "camera 1"),
    "cameras-width-2^40": (Q.pack(1) + camera_record(width=2**40), None, "cameras.bin", "width is 1099511627776 pixels",
                           "camera 1"),
    "cameras-nan": (Q.pack(1) + camera_record(params=(math.nan, 50.0, 32.0, 24.0)), None, "cameras.bin",
                    "fx is nan; it must be positive and finite", "camera 1"),
    "cameras-twice": (Q.pack(2) + camera_record() + camera_record(), None, "cameras.bin",
                      "is defined twice (records 0 and 1)", "camera 1"),
    "images-count-2^63": (None, Q.pack(2**63), "images.bin", "holds 9223372036854775808 images", ""),
    "images-count-200000": (None, Q.pack(200_000) + image_record(), "images.bin", "holds 200000 images", ""),
    "images-count-vs-size": (None, Q.pack(3) + image_record(), "images.bin", "its header says 3 images, but", ""),
    "images-count-zero": (None, Q.pack(0), "images.bin", "the model holds no images", ""),
    "images-name-without-end": (None, Q.pack(1) + image_record()[:64] + b"abc" + b"x" * 20, "images.bin",
                                "the file ends early (truncated?)", ""),
    "images-name-of-10-kb": (None, Q.pack(1) + image_record(name=b"n" * 10_000), "images.bin",
                             "its name runs over 4096 bytes without an end (NUL byte)", "image 1"),
    "images-points-2^60": (None, Q.pack(1) + image_record(points=2**60, point_data=b""), "images.bin",
                           "its header says 1152921504606846976 points, more than the file holds", "image 1 (a.jpg)"),
    "images-points-cut": (None, Q.pack(1) + image_record(points=100)[:-24], "images.bin",
                          "its header says 100 points, more than the file holds", "image 1 (a.jpg)"),
    "images-twice": (None, Q.pack(2) + image_record() + image_record(name=b"b.jpg"), "images.bin",
                     "appears twice (records 0: a.jpg and 1: b.jpg)", "image 1"),
    "images-quaternion-nan": (None, Q.pack(1) + image_record(q=(math.nan, 0, 0, 0)), "images.bin",
                              "quaternion is nan; it must be finite", "image 1 (a.jpg)"),
    "images-quaternion-zero": (None, Q.pack(1) + image_record(q=(0, 0, 0, 0)), "images.bin",
                               "is not a rotation (norm 0)", "image 1 (a.jpg)"),
    "images-translation-1e300": (None, Q.pack(1) + image_record(t=(0, 1e300, 0)), "images.bin",
                                 "the camera sits 1e+300 scene units", "image 1 (a.jpg)"),
    "images-camera-missing": (None, Q.pack(1) + image_record(camera_id=9), "images.bin",
                              "camera 9 is not in the cameras file", "image 1 (a.jpg)"),
    "images-name-not-utf8": (None, Q.pack(1) + image_record(camera_id=9, name=b"\xff\xfe.jpg"), "images.bin",
                             "camera 9 is not in the cameras file", "image 1 (\ufffd\ufffd.jpg)"),
}
for _name, (_cameras, _images, _blamed, _problem, _where) in COLMAP_BINARY.items():
    CASES.append(Case(f"colmap_binary-{_name}", lambda folder, c=_cameras, i=_images: write_model_binary(folder, c, i),
                      _problem, _where, blamed=f"model/{_blamed}"))


# -- 8. paths -----------------------------------------------------------------------------------------

@case("path-images_txt-alone", "no cameras.txt beside it (a COLMAP model needs both)", blamed="model/images.txt")
def _(folder):
    model = write_model_text(folder)
    os.remove(os.path.join(model, "cameras.txt"))
    return os.path.join(model, "images.txt")


@case("path-cameras_bin-alone", "no images.bin beside it (a COLMAP model needs both)", blamed="model/cameras.bin")
def _(folder):
    model = write_model_binary(folder)
    os.remove(os.path.join(model, "images.bin"))
    return os.path.join(model, "cameras.bin")


@case("path-folder-with-cameras_txt-only", "is a folder without a COLMAP model", blamed="model")
def _(folder):
    model = write_model_text(folder)
    os.remove(os.path.join(model, "images.txt"))
    return model


@case("path-unknown-suffix", "unknown camera file type; give a .json, COLMAP model, .npy or .npz")
def _(folder):
    return write_bytes(folder, b"frames: []", "cams.yaml")


@case("path-unicode-and-spaces", "cannot read the JSON (the file is empty)")
def _(folder):
    return write_bytes(folder, b"", "caméra set 1 ☃.json")


@case("path-missing", "no such file")
def _(folder):
    return str(folder / "never-written.json")


# -- writing and running ------------------------------------------------------------------------------

def write_camera_corpus(folder) -> list[Case]:
    """Write every case into ``folder/<case name>/``; each case's ``path`` is what to read."""
    folder = Path(folder)
    for item in CASES:
        target = folder / item.name
        target.mkdir(parents=True, exist_ok=True)
        item.folder = str(target)
        item.path = item.write(target)
    return CASES


def blamed_path(item: Case) -> str:
    """The file the message must start with."""
    return os.path.join(item.folder, item.blamed) if item.blamed else item.path


def _run_one(item: dict) -> dict:
    from depth_views.cameras.camera_set import read_camera_file, views_from_camera_set
    from depth_views.cameras.intrinsics import Intrinsics
    from depth_views.errors import DepthViewsError

    result = {"name": item["name"], "read": False}
    try:
        camera_set = read_camera_file(item["path"], pose_convention=item["pose_convention"],
                                      default_size=item["default_size"])
        result["read"] = True
        views_from_camera_set(camera_set, fallback=Intrinsics(W, H))
        result["outcome"] = "accepted"
    except DepthViewsError as error:
        result.update(outcome="DepthViewsError", message=str(error))
    except BaseException as error:  # noqa: BLE001 - reported: the test fails on it
        result.update(outcome=type(error).__name__, message=str(error)[:500])
    return result


def _resident_kib() -> int:
    with open("/proc/self/statm") as stream:
        return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def run(manifest: str, address_space: int, hang_seconds: float) -> None:
    """Read every case of ``manifest`` (a JSON list of cases), each in a child forked from this process
    (numpy and the readers already imported) whose address space grows by at most ``address_space``
    bytes, killed after ``hang_seconds``; print one JSON line per case with its outcome, message and the
    resident memory it added (KiB)."""
    import resource
    import select
    import signal
    import time

    import depth_views.cameras.camera_set  # noqa: F401 - imported once, before the forks

    with open("/proc/self/statm") as stream:
        virtual = int(stream.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    for item in json.load(open(manifest, encoding="utf-8")):
        read_end, write_end = os.pipe()
        child = os.fork()
        if child == 0:  # the case
            os.close(read_end)
            before = max(_resident_kib(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
            resource.setrlimit(resource.RLIMIT_AS, (virtual + address_space, virtual + address_space))
            result = _run_one(item)
            result["added_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
            os.write(write_end, json.dumps(result).encode())
            os._exit(0)
        os.close(write_end)
        started, data = time.monotonic(), b""
        while True:
            left = hang_seconds - (time.monotonic() - started)
            ready, _, _ = select.select([read_end], [], [], max(left, 0))
            if not ready:
                os.kill(child, signal.SIGKILL)
                break
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            data += chunk
        os.close(read_end)
        _, status = os.waitpid(child, 0)
        result = json.loads(data) if data else {"name": item["name"], "outcome": "hung or crashed",
                                                "message": f"status {status}", "read": False, "added_kib": 0}
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    run(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
