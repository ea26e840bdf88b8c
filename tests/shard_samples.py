"""Shard samples shaped like a render's, with depth known exactly, and a helper that packs them into shards."""

from __future__ import annotations

import numpy as np

from depth_views.batch import shard_store, store
from depth_views.outputs import shards


def fake_mesh(name: str, views: int, size=(6, 5), seed=0) -> list[tuple[str, bytes]]:
    """The members a render would give: depth with +inf background and exact values, json, cameras."""
    rng = np.random.default_rng(seed)
    members = []
    for index in range(views):
        depth = rng.uniform(0.5, 3.0, size).astype(np.float32)
        depth[0, :] = np.inf
        key = shards.sample_key(name, index)
        members.append((f"{key}.depth.npz", shards.npz_bytes("depth", depth)))
        members.append((f"{key}.json", shards.json_bytes({"mesh": f"/in/{name}.obj", "name": name,
                                                           "view_index": index, "K": np.eye(3).tolist(),
                                                           "world_to_camera": np.eye(4).tolist(),
                                                           "camera_to_world": np.eye(4).tolist(),
                                                           "normalization": None})))
        if index == 0:
            members.append((f"{key}.cameras.json", shards.json_bytes(
                {"name": name, "mesh": f"/in/{name}.obj", "views": [{"index": i} for i in range(views)]})))
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
