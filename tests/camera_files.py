"""Camera files written by the tests from the formats' own stated conventions (not from our code).

- OpenCV: world_to_camera maps world points to camera x right, y down, z forward; K puts pixel
  centres at integers.
- nerfstudio / instant-ngp / NeRF-synthetic: ``transform_matrix`` is camera-to-world with the
  camera looking down its -z, y up (OpenGL); cx, cy put pixel centres at +0.5.
- COLMAP: ``images.txt`` holds world-to-camera (OpenCV axes) as a Hamilton quaternion QW QX QY QZ
  and TX TY TZ; cameras.txt's cx, cy put pixel centres at +0.5.
"""

from __future__ import annotations

import json
import os

import numpy as np

OPENGL_FROM_OPENCV = np.diag([1.0, -1.0, -1.0, 1.0])


def rotation_between(a, b) -> np.ndarray:
    """The rotation (3x3) taking unit vector ``a`` to unit vector ``b`` (Rodrigues)."""
    a, b = np.asarray(a, float) / np.linalg.norm(a), np.asarray(b, float) / np.linalg.norm(b)
    v, c = np.cross(a, b), float(a @ b)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1.0 + c)


def world_to_camera_seeing(position, target, K, width, height, roll_deg=0.0) -> np.ndarray:
    """OpenCV world_to_camera of a camera at ``position`` whose image centre pixel looks at ``target``.

    With an off-centre (even outside-the-image) principal point the optical axis is turned away from
    the target so that the target still lands mid-image.
    """
    position, target = np.asarray(position, float), np.asarray(target, float)
    forward = target - position
    forward /= np.linalg.norm(forward)
    up_hint = np.array([0.0, 0.0, 1.0]) if abs(forward[2]) < 0.99 else np.array([0.0, 1.0, 0.0])
    right = np.cross(forward, up_hint)
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    rotation = np.stack([right, down, forward])          # rows: camera axes in world coordinates
    roll = np.radians(roll_deg)
    rotation = np.array([[np.cos(roll), -np.sin(roll), 0], [np.sin(roll), np.cos(roll), 0], [0, 0, 1]]) @ rotation
    wanted = np.array([((width - 1) / 2 - K[0][2]) / K[0][0], ((height - 1) / 2 - K[1][2]) / K[1][1], 1.0])
    rotation = rotation_between([0, 0, 1], wanted) @ rotation
    world_to_camera = np.eye(4)
    world_to_camera[:3, :3] = rotation
    world_to_camera[:3, 3] = -rotation @ position
    return world_to_camera


def opengl_camera_to_world(world_to_camera) -> np.ndarray:
    return np.linalg.inv(world_to_camera) @ OPENGL_FROM_OPENCV


def quaternion_wxyz(rotation) -> list[float]:
    """Hamilton quaternion (w, x, y, z) of a rotation matrix, via its eigenvector (independent method)."""
    r = np.asarray(rotation, float)
    # Bar-Itzhack: the quaternion is the top eigenvector of this symmetric matrix.
    k = np.array([
        [r[0, 0] - r[1, 1] - r[2, 2], r[1, 0] + r[0, 1], r[2, 0] + r[0, 2], r[2, 1] - r[1, 2]],
        [r[1, 0] + r[0, 1], r[1, 1] - r[0, 0] - r[2, 2], r[2, 1] + r[1, 2], r[0, 2] - r[2, 0]],
        [r[2, 0] + r[0, 2], r[2, 1] + r[1, 2], r[2, 2] - r[0, 0] - r[1, 1], r[1, 0] - r[0, 1]],
        [r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1], r[0, 0] + r[1, 1] + r[2, 2]]]) / 3.0
    values, vectors = np.linalg.eigh(k)
    x, y, z, w = vectors[:, np.argmax(values)]
    q = np.array([w, x, y, z])
    return (q if w >= 0 else -q).tolist()


def write_transforms(path, cameras, *, per_frame=False, names=None) -> str:
    """nerfstudio transforms.json of ``cameras`` = [(K, world_to_camera, width, height)]."""
    def intrinsics(K, width, height):
        return {"fl_x": K[0][0], "fl_y": K[1][1], "cx": K[0][2] + 0.5, "cy": K[1][2] + 0.5, "w": width, "h": height}

    frames = []
    for i, (K, w2c, width, height) in enumerate(cameras):
        name = names[i] if names else f"images/frame_{i:05d}.png"
        frame = {"file_path": name, "transform_matrix": opengl_camera_to_world(w2c).tolist()}
        if per_frame:
            frame.update(intrinsics(K, width, height))
        frames.append(frame)
    document = {"camera_model": "OPENCV", "frames": frames}
    if not per_frame:
        K, _, width, height = cameras[0]
        document.update(intrinsics(K, width, height))
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(document, stream)
    return str(path)


def write_colmap_text(folder, cameras, *, model="PINHOLE") -> str:
    """COLMAP cameras.txt + images.txt (one camera per image) of ``cameras``."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "cameras.txt"), "w", encoding="utf-8") as stream:
        stream.write("# Camera list with one line of data per camera:\n")
        for i, (K, _, width, height) in enumerate(cameras, start=1):
            fx, fy, cx, cy = K[0][0], K[1][1], K[0][2] + 0.5, K[1][2] + 0.5
            params = {"PINHOLE": [fx, fy, cx, cy], "SIMPLE_PINHOLE": [fx, cx, cy],
                      "OPENCV": [fx, fy, cx, cy, 0, 0, 0, 0]}[model]
            stream.write(f"{i} {model} {width} {height} " + " ".join(repr(float(p)) for p in params) + "\n")
    with open(os.path.join(folder, "images.txt"), "w", encoding="utf-8") as stream:
        stream.write("# Image list with two lines of data per image:\n")
        for i, (_, w2c, _, _) in enumerate(cameras, start=1):
            q = quaternion_wxyz(np.asarray(w2c)[:3, :3])
            t = np.asarray(w2c)[:3, 3]
            stream.write(f"{i} " + " ".join(repr(float(v)) for v in [*q, *t]) + f" {i} img_{i:03d}.jpg\n\n")
    with open(os.path.join(folder, "points3D.txt"), "w", encoding="utf-8") as stream:
        stream.write("# empty\n")
    return str(folder)


# -- the cameras the camera-file tests use (tests/cameras/) ---------------------------------------------

W, H = 64, 48
TARGET = np.array([0.75, 1.5, 2.5])   # centre of tests/meshes.asymmetric_mesh's box


def K_of(fx, fy, cx, cy):  # noqa: N802
    return [[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]]


# fx != fy with an off-centre principal point; fy > fx with the principal point left of the image;
# a principal point below and right of the image.
KS = {"fx_ne_fy": K_of(70.0, 52.0, 24.3, 30.1), "outside_left": K_of(45.0, 66.0, -12.0, 20.0),
      "outside_below": K_of(58.0, 58.0, 80.5, 61.0)}
POSITIONS = [(6.0, -3.0, 4.0), (-4.5, 5.0, 1.0), (2.0, 6.5, -2.5)]


def cameras_for(K, width=W, height=H):
    """Three cameras [(K, world_to_camera, width, height)] around TARGET, each rolled a little more."""
    return [(K, world_to_camera_seeing(p, TARGET, K, width, height, roll_deg=10.0 * i), width, height)
            for i, p in enumerate(POSITIONS)]


def assert_frames_match(camera_set, cameras):
    """A read camera set holds exactly ``cameras`` (sizes, K in OpenCV pixels, poses)."""
    assert len(camera_set.frames) == len(cameras)
    for frame, (K, w2c, width, height) in zip(camera_set.frames, cameras):
        assert (frame.width, frame.height) == (width, height)
        assert np.allclose([frame.fx, frame.fy, frame.cx, frame.cy], [K[0][0], K[1][1], K[0][2], K[1][2]],
                           atol=1e-9)
        assert np.allclose(frame.camera_to_world, opengl_camera_to_world(w2c), atol=1e-9)


def edited_transforms(folder, changes) -> str:
    """A per-frame transforms.json of ``cameras_for(KS["fx_ne_fy"])`` with ``changes``: {(frame, key): value}
    (value None removes the key)."""
    path = write_transforms(os.path.join(folder, "transforms.json"), cameras_for(KS["fx_ne_fy"]), per_frame=True)
    with open(path, encoding="utf-8") as stream:
        document = json.load(stream)
    for (index, key), value in changes.items():
        if value is None:
            document["frames"][index].pop(key)
        else:
            document["frames"][index][key] = value
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(document, stream)
    return path


def write_colmap_binary(folder, cameras, *, image_ids=None, camera_ids=None, points=0) -> str:
    """COLMAP cameras.bin + images.bin (one PINHOLE camera per image) of ``cameras``, packed from COLMAP's
    binary layout (uint64 counts; camera: int32 id, int32 model, uint64 width, height, float64 params; image:
    int32 id, float64 qw qx qy qz tx ty tz, int32 camera id, NUL-terminated name, uint64 point count, then
    per point float64 x, y and int64 point3D id).  ``image_ids``/``camera_ids`` override the ids (repeats on
    purpose); ``points`` 2D points per image."""
    import struct

    os.makedirs(folder, exist_ok=True)
    camera_ids = camera_ids or list(range(1, len(cameras) + 1))
    image_ids = image_ids or list(range(1, len(cameras) + 1))
    with open(os.path.join(folder, "cameras.bin"), "wb") as stream:
        stream.write(struct.pack("<Q", len(cameras)))
        for camera_id, (K, _, width, height) in zip(camera_ids, cameras):
            stream.write(struct.pack("<iiQQ4d", camera_id, 1, width, height, K[0][0], K[1][1], K[0][2] + 0.5,
                                     K[1][2] + 0.5))
    with open(os.path.join(folder, "images.bin"), "wb") as stream:
        stream.write(struct.pack("<Q", len(cameras)))
        for number, (image_id, camera_id, (_, w2c, _, _)) in enumerate(zip(image_ids, camera_ids, cameras), start=1):
            q, t = quaternion_wxyz(np.asarray(w2c)[:3, :3]), np.asarray(w2c)[:3, 3]
            stream.write(struct.pack("<i7di", image_id, *q, *t, camera_id) + f"img_{number:03d}.jpg".encode() + b"\0")
            stream.write(struct.pack("<Q", points) + struct.pack("<ddq", 1.5, 2.5, -1) * points)
    return str(folder)


# -- cameras with lens distortion (COLMAP's models, nerfstudio's k's and p's) ---------------------------

COLMAP_MODEL_IDS = {  # colmap/src/colmap/sensor/models.h, restated on purpose
    "SIMPLE_PINHOLE": 0, "PINHOLE": 1, "SIMPLE_RADIAL": 2, "RADIAL": 3, "OPENCV": 4, "OPENCV_FISHEYE": 5,
    "FULL_OPENCV": 6, "FOV": 7, "SIMPLE_RADIAL_FISHEYE": 8, "RADIAL_FISHEYE": 9, "THIN_PRISM_FISHEYE": 10,
    "RAD_TAN_THIN_PRISM_FISHEYE": 11, "SIMPLE_DIVISION": 12, "DIVISION": 13, "SIMPLE_FISHEYE": 14, "FISHEYE": 15}


def write_colmap_lenses(folder, cameras, *, binary=False) -> str:
    """A COLMAP model (text, or binary with ``binary``) of ``cameras`` = [(model, width, height, params,
    world_to_camera)], params as cameras.txt holds them (COLMAP's order, principal point at +0.5); one camera
    per distinct (model, size, params), images in order."""
    import struct

    os.makedirs(folder, exist_ok=True)
    ids: dict = {}
    for model, width, height, params, _ in cameras:
        ids.setdefault((model, width, height, tuple(params)), len(ids) + 1)
    images = [(number, ids[(model, width, height, tuple(params))], w2c)
              for number, (model, width, height, params, w2c) in enumerate(cameras, start=1)]
    if binary:
        with open(os.path.join(folder, "cameras.bin"), "wb") as stream:
            stream.write(struct.pack("<Q", len(ids)))
            for (model, width, height, params), camera_id in ids.items():
                stream.write(struct.pack(f"<iiQQ{len(params)}d", camera_id, COLMAP_MODEL_IDS[model], width, height,
                                         *params))
        with open(os.path.join(folder, "images.bin"), "wb") as stream:
            stream.write(struct.pack("<Q", len(images)))
            for number, camera_id, w2c in images:
                q, t = quaternion_wxyz(np.asarray(w2c)[:3, :3]), np.asarray(w2c)[:3, 3]
                stream.write(struct.pack("<i7di", number, *q, *t, camera_id) + f"img_{number:03d}.jpg".encode() + b"\0")
                stream.write(struct.pack("<Q", 0))
        return str(folder)
    with open(os.path.join(folder, "cameras.txt"), "w", encoding="utf-8") as stream:
        stream.write("# Camera list with one line of data per camera:\n")
        for (model, width, height, params), camera_id in ids.items():
            stream.write(f"{camera_id} {model} {width} {height} " + " ".join(repr(float(p)) for p in params) + "\n")
    with open(os.path.join(folder, "images.txt"), "w", encoding="utf-8") as stream:
        for number, camera_id, w2c in images:
            q, t = quaternion_wxyz(np.asarray(w2c)[:3, :3]), np.asarray(w2c)[:3, 3]
            stream.write(f"{number} " + " ".join(repr(float(v)) for v in [*q, *t]) + f" {camera_id} img_{number:03d}.jpg\n\n")
    return str(folder)
