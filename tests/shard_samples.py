"""Shard samples shaped like a render's, with depth known exactly, and a helper that packs them into shards.

``fake_mesh`` gives the members today's writer makes (one sample schema, the cameras document as the
hidden ``__meta__/`` member); ``legacy_mesh`` the ones the writer made before issue 21 (the document
as ``<key>.cameras.json`` on the first view, ``normalization`` null or a 4x4), which the readers must
still read.
"""

from __future__ import annotations

import numpy as np

from depth_views.batch import shard_store, store
from depth_views.outputs import shards


def fake_depth(views: int, size=(6, 5), seed=0, empty=()) -> list[np.ndarray]:
    """Depth with a +inf first row and exact values; the views in ``empty`` see nothing at all."""
    rng = np.random.default_rng(seed)
    depths = []
    for index in range(views):
        depth = rng.uniform(0.5, 3.0, size).astype(np.float32)
        depth[0, :] = np.inf
        if index in empty:
            depth[:] = np.inf
        depths.append(depth)
    return depths


def coverage_of(depth: np.ndarray) -> float:
    return float(np.isfinite(depth).sum()) / depth.size


def fake_mesh(name: str, views: int, size=(6, 5), seed=0, empty=(), object_to_world=None,
              passes=("depth",)) -> list[tuple[str, bytes]]:
    """The members a render gives today: depth with +inf background and exact values, json, cameras;
    with ``passes`` ``mask`` (uint16 ids, 7 on the surface) and ``rgb`` (RGBA, alpha 255 on the surface)."""
    samples = []
    for index, depth in enumerate(fake_depth(views, size, seed, empty)):
        meta = {"view_index": index, "K": np.eye(3).tolist(), "world_to_camera": np.eye(4).tolist(),
                "camera_to_world": np.eye(4).tolist(),
                "object_to_world": np.eye(4).tolist() if object_to_world is None else object_to_world,
                "normalized": object_to_world is not None, "width": size[1], "height": size[0],
                "depth_kind": "planar", "camera_model": "PINHOLE", "background": "inf", "units": "",
                "passes": list(passes), "coverage": coverage_of(depth)}
        encoded = {"depth.npz": shards.npz_bytes("depth", depth)}
        surface = np.isfinite(depth)
        if "mask" in passes:
            encoded["mask.npz"] = shards.npz_bytes("mask", np.where(surface, 7, 0).astype(np.uint16))
        if "rgb" in passes:
            rgba = np.zeros(size + (4,), np.uint8)
            rgba[surface] = (200, 100, 50, 255)
            encoded["rgb.png"] = shards.png_bytes(rgba)
        samples.append((meta, encoded))
    cameras = {"format": "depth_views.cameras", "width": size[1], "height": size[0],
               "views": [{"index": i, "coverage": m["coverage"]} for i, (m, _) in enumerate(samples)]}
    if object_to_world is not None:
        cameras["object_to_world"] = object_to_world
    return shards.mesh_members(name, f"/in/{name}.obj", samples, cameras)


def legacy_mesh(name: str, views: int, size=(6, 5), seed=0, normalization=None) -> list[tuple[str, bytes]]:
    """The members the shard writer made before issue 21 (main at ac3fe40)."""
    members = []
    for index, depth in enumerate(fake_depth(views, size, seed)):
        key = shards.sample_key(name, index)
        members.append((f"{key}.depth.npz", shards.npz_bytes("depth", depth)))
        members.append((f"{key}.json", shards.json_bytes({"mesh": f"/in/{name}.obj", "name": name,
                                                           "view_index": index, "K": np.eye(3).tolist(),
                                                           "world_to_camera": np.eye(4).tolist(),
                                                           "camera_to_world": np.eye(4).tolist(),
                                                           "normalization": normalization, "passes": ["depth"]})))
        if index == 0:
            members.append((f"{key}.cameras.json", shards.json_bytes(
                {"name": name, "mesh": f"/in/{name}.obj", "views": [{"index": i} for i in range(views)],
                 **({} if normalization is None else {"object_to_world": normalization})})))
    return members


def depth_of(members, index):
    for name, data in members:
        if name.endswith(f"/{index:04d}.depth.npz"):
            return shards.decode_member("depth.npz", data)
    raise KeyError(index)


def write_meshes(out, meshes, **sizes):
    index = store.Journal(store.journal_path(str(out), store.INDEX_STEM, None))
    output = shard_store.ShardedOutput(str(out), index, **sizes)
    for name, members in meshes.items():
        output.add(name, f"/in/{name}.obj", members)
    output.close()
    return output
