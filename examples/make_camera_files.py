"""Write the example camera files of docs/camera-files.md into a folder (default: camera_files/).

    python examples/make_camera_files.py [FOLDER]

Four cameras around examples/suzanne.obj (its centre is near the origin, 2.7 units wide), written
from each format's own conventions with numpy only:

- ``transforms.json``: nerfstudio, camera_model OPENCV, fx != fy and an off-centre principal point
  (pixel centres at +0.5), camera-to-world in OpenGL axes;
- ``transforms_train.json``: NeRF-synthetic, only camera_angle_x (square pixels, centred);
- ``sparse/cameras.txt`` + ``images.txt``: a COLMAP text model (PINHOLE), world-to-camera as
  QW QX QY QZ TX TY TZ in OpenCV axes;
- ``sparse_opencv/``: the same images through a phone-like lens, COLMAP's OPENCV model (k1 k2 p1 p2);
- ``poses.npy``: the 4x4 camera-to-world matrices in OpenGL axes, no intrinsics;
- ``broken.json``: ``transforms.json`` whose frame 1 has a distortion so strong that it folds back at the
  principal point (a file that is refused).

None of the images these files name exist: Depth Views does not need them.
"""

from __future__ import annotations

import json
import math
import os
import sys

import numpy as np

WIDTH, HEIGHT = 160, 120
FX, FY, CX, CY = 190.0, 170.0, 70.0, 66.0       # OpenCV pixels (centres at integers)
OPENCV_DISTORTION = (-0.12, 0.03, 0.0012, -0.0008)   # k1 k2 p1 p2 of sparse_opencv/ (COLMAP's OPENCV model)
POSITIONS = [(0.0, -5.0, 1.0), (4.0, -3.0, 2.0), (-4.0, -2.5, 2.5), (0.5, 4.5, 2.0)]
TARGET = np.zeros(3)


def world_to_camera(position, target=TARGET) -> np.ndarray:
    """OpenCV world_to_camera (x right, y down, z forward) looking at ``target``, image up = +Z."""
    position = np.asarray(position, float)
    forward = (target - position) / np.linalg.norm(target - position)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    matrix = np.eye(4)
    matrix[:3, :3] = np.stack([right, down, forward])
    matrix[:3, 3] = -matrix[:3, :3] @ position
    return matrix


def opengl_camera_to_world(w2c) -> np.ndarray:
    return np.linalg.inv(w2c) @ np.diag([1.0, -1.0, -1.0, 1.0])


def quaternion(rotation) -> list[float]:
    """Hamilton (w, x, y, z) of a rotation matrix (w >= 0)."""
    r = np.asarray(rotation)
    w = math.sqrt(max(0.0, 1.0 + r[0, 0] + r[1, 1] + r[2, 2])) / 2
    x = math.copysign(math.sqrt(max(0.0, 1.0 + r[0, 0] - r[1, 1] - r[2, 2])) / 2, r[2, 1] - r[1, 2])
    y = math.copysign(math.sqrt(max(0.0, 1.0 - r[0, 0] + r[1, 1] - r[2, 2])) / 2, r[0, 2] - r[2, 0])
    z = math.copysign(math.sqrt(max(0.0, 1.0 - r[0, 0] - r[1, 1] + r[2, 2])) / 2, r[1, 0] - r[0, 1])
    return [w, x, y, z]


def main(folder: str = "camera_files") -> None:
    os.makedirs(os.path.join(folder, "sparse"), exist_ok=True)
    os.makedirs(os.path.join(folder, "sparse_opencv"), exist_ok=True)
    poses = [world_to_camera(p) for p in POSITIONS]
    frames = [{"file_path": f"images/frame_{i:05d}.png", "transform_matrix": opengl_camera_to_world(m).tolist()}
              for i, m in enumerate(poses)]
    with open(os.path.join(folder, "transforms.json"), "w") as stream:
        json.dump({"camera_model": "OPENCV", "fl_x": FX, "fl_y": FY, "cx": CX + 0.5, "cy": CY + 0.5,
                   "w": WIDTH, "h": HEIGHT, "k1": 0.0, "k2": 0.0, "p1": 0.0, "p2": 0.0, "frames": frames}, stream,
                  indent=1)
    with open(os.path.join(folder, "transforms_train.json"), "w") as stream:
        json.dump({"camera_angle_x": 2 * math.atan(WIDTH / (2 * FX)),
                   "frames": [{"file_path": f"./train/r_{i}", "rotation": 0.0,
                               "transform_matrix": frame["transform_matrix"]} for i, frame in enumerate(frames)]},
                  stream, indent=1)
    with open(os.path.join(folder, "sparse", "cameras.txt"), "w") as stream:
        stream.write(f"1 PINHOLE {WIDTH} {HEIGHT} {FX} {FY} {CX + 0.5} {CY + 0.5}\n")
    with open(os.path.join(folder, "sparse_opencv", "cameras.txt"), "w") as stream:
        stream.write(f"1 OPENCV {WIDTH} {HEIGHT} {FX} {FY} {CX + 0.5} {CY + 0.5} "
                     + " ".join(repr(k) for k in OPENCV_DISTORTION) + "\n")
    for model in ("sparse", "sparse_opencv"):
        with open(os.path.join(folder, model, "images.txt"), "w") as stream:
            for i, m in enumerate(poses, start=1):
                values = quaternion(m[:3, :3]) + m[:3, 3].tolist()
                stream.write(f"{i} " + " ".join(f"{v!r}" for v in values) + f" 1 img_{i:03d}.jpg\n\n")
    np.save(os.path.join(folder, "poses.npy"), np.stack([opengl_camera_to_world(m) for m in poses]))
    with open(os.path.join(folder, "transforms.json")) as stream:
        broken = json.load(stream)
    for key in ("k1", "k2", "p1", "p2"):
        del broken[key]                  # per-frame distortion (nerfstudio reads a frame's own only without these)
    broken["frames"][1]["k1"] = -1e6     # folds back a fraction of a pixel from the principal point: refused
    with open(os.path.join(folder, "broken.json"), "w") as stream:
        json.dump(broken, stream, indent=1)
    print(f"wrote transforms.json, transforms_train.json, sparse/cameras.txt, sparse/images.txt, sparse_opencv/, "
          f"poses.npy and broken.json into {folder}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
