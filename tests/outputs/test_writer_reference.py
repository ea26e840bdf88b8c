"""The folder writer and the shard writer give, byte for byte, what they gave before their per-view
arrays came from one derivation (outputs/derived.py): every file and tar member of a fixed render of
examples/suzanne.obj, replayed through today's writers, against the digests the main branch's writers
produced (tests/writer_reference.py says how both were made).  No Blender needed."""

from __future__ import annotations

import json

import pytest

import writer_reference

pytest.importorskip("OpenEXR")


@pytest.fixture(scope="module")
def reference():
    with open(writer_reference.DIGESTS_FILE, encoding="utf-8") as stream:
        return json.load(stream)


@pytest.fixture(scope="module")
def today():
    return writer_reference.writer_digests()


def same_libraries(reference) -> bool:
    return reference["made_with"] == writer_reference.library_versions()


def compare(expected: dict, actual: dict, exact_bytes: bool, where: str) -> None:
    assert actual["content"] == expected["content"], f"{where}: other content"
    if exact_bytes and not expected.get("numpy_pickle"):
        assert actual["sha256"] == expected["sha256"], f"{where}: same content, other bytes"


@pytest.mark.parametrize("case", writer_reference.CASES)
def test_folder_files_are_the_main_branchs(reference, today, case):
    expected, actual = reference["cases"][case], today[case]
    assert sorted(actual["folder"]) == sorted(expected["folder"])
    assert len(actual["folder"]) == 39   # 12 per view, views.npz, contact_sheet.png, points.ply
    assert actual["listed"] == expected["listed"] and actual["finish_extra"] == expected["finish_extra"]
    for path, record in expected["folder"].items():
        compare(record, actual["folder"][path], same_libraries(reference), f"{case} {path}")


@pytest.mark.parametrize("case", writer_reference.CASES)
def test_shard_members_are_the_main_branchs(reference, today, case):
    expected, actual = reference["cases"][case], today[case]
    for kind in ("members", "tar"):
        assert [name for name, _ in actual[kind]] == [name for name, _ in expected[kind]]
        assert len(actual[kind]) == 3 * 8 + 1   # 7 passes and json per view, the hidden cameras.json once
        for (name, record), (_, got) in zip(expected[kind], actual[kind]):
            compare(record, got, same_libraries(reference), f"{case} {kind} {name}")


def test_a_render_stores_the_same_arrays_in_both_layouts(tmp_path):
    """examples/suzanne.obj rendered into folders and into shards: every pass read back is the same
    array, bit for bit (both writers store one derivation)."""
    pytest.importorskip("bpy")
    import numpy as np

    from depth_views.cli import main
    from depth_views.datasets import DepthViews

    common = ["--views", "3", "--resolution", "32", "24", "--passes", ",".join(writer_reference.PASSES),
              "--rgb-samples", "4", "--rgb-exr", "--normalize", "--quiet"]
    assert main(["render", writer_reference.MESH, "--out", str(tmp_path / "folders"), *common,
                 "--formats", "exr"]) == 0
    assert main(["render", writer_reference.MESH, "--out", str(tmp_path / "wds"), *common,
                 "--formats", "webdataset"]) == 0
    folders = {s["view_index"]: s for s in DepthViews(str(tmp_path / "folders"))}
    shards = {s["view_index"]: s for s in DepthViews(str(tmp_path / "wds"))}
    assert sorted(folders) == sorted(shards) == [0, 1, 2]
    for index, stored in shards.items():
        assert np.isposinf(stored["depth"]).any() and np.isfinite(stored["depth"]).any()
        for name in ("depth", "distance", "normal", "mask", "xyz", "rgb", "rgb_linear", "K", "world_to_camera"):
            np.testing.assert_array_equal(stored[name], folders[index][name], err_msg=f"view {index} {name}")
        surface = np.isfinite(stored["depth"])
        assert np.allclose(np.linalg.norm(stored["normal"][surface], axis=-1), 1, atol=1e-6)
        assert not stored["normal"][~surface].any() and np.isnan(stored["xyz"][~surface]).all()
