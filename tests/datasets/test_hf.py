"""Hugging Face ``datasets`` reads our shards unchanged (needs bpy and datasets): a batch of real meshes
(examples/suzanne.obj, an asymmetric box and a tilted plane; passes depth, normal, mask, rgb) loads with
``load_dataset("webdataset")`` as one row per view whose float32 depth (+inf included), K and pose are
our reader's; the typed dataset of docs/datasets.md survives save_to_disk and parquet bit for bit.  The
page's blocks are run as they are written and must print what the page shows (numbers masked)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from docs_blocks import blocks, docs_block  # noqa: E402
from meshes import asymmetric_mesh, tilted_plane, write_mesh  # noqa: E402
from repo import ROOT  # noqa: E402

from depth_views.cli import main  # noqa: E402
from depth_views.datasets import DepthViews  # noqa: E402
from depth_views.outputs import shards  # noqa: E402

PAGE = "docs/datasets.md"


def shown_after(tag: str) -> list[str]:
    """The lines of the plain block right after the page's block marked ``test ... TAG``."""
    found = blocks(PAGE)
    for position, block in enumerate(found):
        if block.kind == "test" and block.rest.split()[1:2] == [tag]:
            return [line for line in found[position + 1].text.splitlines() if line.strip()]
    raise LookupError(tag)


def masked(line: str) -> str:
    return re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "#", line).strip()


def run_block(text: str) -> str:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(text, PAGE, "exec"), {"__name__": "__docs__"})
    return printed.getvalue()


def run_block_printing_what_the_page_shows(block: str, tag: str) -> None:
    """Run ``block``, the page's block marked ``test ... TAG``; every line the page shows after it is printed
    (numbers aside)."""
    printed = run_block(block)
    real = {masked(line) for line in printed.splitlines()}
    missing = [line for line in shown_after(tag) if masked(line) not in real]
    assert missing == [], f"{PAGE} shows lines the block did not print:\n{missing}\nprinted:\n{printed}"


@pytest.fixture(scope="module")
def views(tmp_path_factory):
    """``views/`` of a batch in WebDataset shards, rendered once for this module."""
    folder = tmp_path_factory.mktemp("hf views")
    meshes = folder / "meshes"
    meshes.mkdir()
    shutil.copy(os.path.join(ROOT, "examples", "suzanne.obj"), meshes / "suzanne.obj")
    write_mesh(asymmetric_mesh(), meshes / "asym.ply")
    write_mesh(tilted_plane(), meshes / "plane.stl")
    assert main(["batch", str(meshes), "--out", str(folder / "views"), "--views", "3", "--resolution", "40", "30",
                 "--passes", "depth,normal,mask,rgb", "--formats", "webdataset", "--shard-views", "6",
                 "--workers", "1", "--rgb-samples", "4", "--progress", "lines", "--quiet"]) == 0
    assert len(shards.finished_shards(str(folder / "views"))) == 2
    return folder


def test_load_dataset_gives_one_row_per_view_with_our_depth_k_and_pose(views, hf_datasets, monkeypatch):
    monkeypatch.chdir(views)
    run_block_printing_what_the_page_shows(docs_block("docs/datasets.md", "load"), "load")
    urls = shards.finished_shards(str(views / "views"))
    rows = hf_datasets.load_dataset("webdataset", data_files={"train": urls}, split="train")
    ours = {sample["key"]: sample for sample in DepthViews(str(views / "views"))}
    assert rows.num_rows == len(ours) == 9   # one row per view, of 3 meshes
    assert sorted(rows.column_names) == ["__key__", "__url__", "depth.npz", "json", "mask.npz", "normal.npz",
                                         "rgb.png"]
    for row in rows.with_format("numpy", dtype=None):
        sample = ours[row["__key__"]]
        depth = row["depth.npz"]["depth"]
        assert depth.dtype == np.float32 and depth.shape == (30, 40)
        np.testing.assert_array_equal(depth, sample["depth"])   # bit for bit, +inf included
        assert np.isposinf(depth).any() and np.isfinite(depth).any()
        meta = row["json"]
        for field in ("K", "world_to_camera", "camera_to_world", "object_to_world"):
            np.testing.assert_array_equal(np.stack(meta[field]), sample[field])
        assert meta["coverage"] == sample["coverage"] == np.isfinite(depth).mean()
        np.testing.assert_array_equal(np.stack(row["normal.npz"]["normal"]), sample["normal"])
        np.testing.assert_array_equal(row["mask.npz"]["mask"], sample["mask"])
        np.testing.assert_array_equal(np.asarray(row["rgb.png"]), sample["rgb"])


def test_typed_dataset_survives_save_to_disk_and_parquet(views, hf_datasets, monkeypatch):
    monkeypatch.chdir(views)
    run_block_printing_what_the_page_shows(docs_block("docs/datasets.md", "typed"), "typed")
    ours = {sample["key"]: sample for sample in DepthViews(str(views / "views"))}
    saved = hf_datasets.load_from_disk(str(views / "views_hf"))
    parquet = hf_datasets.load_dataset("parquet", data_files=str(views / "views.parquet"), split="train")
    for typed in (saved, parquet):
        assert typed.num_rows == 9 and typed.features["depth"].dtype == "float32"
        for row in typed.with_format("numpy", dtype=None):
            sample = ours[row["key"]]
            assert row["depth"].dtype == np.float32
            np.testing.assert_array_equal(row["depth"], sample["depth"])
            np.testing.assert_array_equal(row["K"], sample["K"])
            assert row["K"].dtype == np.float64 and row["coverage"] == sample["coverage"]
