"""Hostile camera files (tests/camera_corpus.py: every format, 296 cases): each is refused with exactly one
DepthViewsError of one line that starts with the file it blames and names the problem (and the frame,
view, camera or image), in bounded time and memory, and never with another exception.

The readers run in a subprocess that forks one child per case: the child's address space may grow by at
most ADDRESS_SPACE (RLIMIT_AS: an allocation the size a hostile header claims fails there) and its
resident memory by at most ADDED_MEMORY; a child still running after HANG_SECONDS hangs (each case takes
milliseconds: this catches a blocking open, not slowness).  A few cases also go through
``depth-views render --cameras``, which answers exit code 2 and one line on stderr before anything
renders.  No Blender.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import camera_corpus
from camera_corpus import CASES, blamed_path

ADDRESS_SPACE = 1 * 2**30        # what one case may add to the reader process's address space
ADDED_MEMORY = 512 * 2**20       # what one case may add to its resident memory (a 100,000-image model: ~100 MB)
HANG_SECONDS = 60                # a case still running after this hangs (each takes milliseconds to a second)


@pytest.fixture(scope="session")
def written_corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("camera corpus é")  # a space and a non-ASCII letter on purpose
    return {item.name: item for item in camera_corpus.write_camera_corpus(folder)}


@pytest.fixture(scope="session")
def corpus_results(written_corpus, tmp_path_factory):
    if not hasattr(os, "fork") or not os.path.exists("/proc/self/statm"):
        pytest.skip("the corpus runner forks a child per case and reads /proc (Linux)")
    manifest = tmp_path_factory.mktemp("manifest") / "cases.json"
    manifest.write_text(json.dumps([{"name": item.name, "path": item.path, "pose_convention": item.pose_convention,
                                     "default_size": item.default_size}
                                    for item in written_corpus.values()
                                    if not (item.needs_non_root and os.geteuid() == 0)]))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    result = subprocess.run([sys.executable, camera_corpus.__file__, str(manifest), str(ADDRESS_SPACE),
                             str(HANG_SECONDS)], capture_output=True, text=True, env=env, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    return {line["name"]: line for line in map(json.loads, result.stdout.splitlines())}


def test_the_corpus_is_large_and_covers_every_format():
    assert len(CASES) >= 150 and len({item.name for item in CASES}) == len(CASES)
    kinds = {item.name.split("-")[0] for item in CASES}
    assert {"json", "transforms", "cameras_json", "npy", "npz", "colmap_text", "colmap_binary", "cameras_txt",
            "images_txt", "cameras_bin", "images_bin", "path"} <= kinds


@pytest.mark.parametrize("name", [item.name for item in CASES])
def test_a_hostile_camera_file_is_one_line_naming_file_and_problem(name, written_corpus, corpus_results):
    item = written_corpus[name]
    if item.needs_non_root and os.geteuid() == 0:
        pytest.skip("root reads a file whatever its permissions")
    result = corpus_results[name]
    assert result["outcome"] == "DepthViewsError", result
    message = result["message"]
    assert "\n" not in message and "\r" not in message
    assert message.startswith(blamed_path(item) + ": "), message
    assert item.problem in message, message
    assert item.where in message, message
    assert "cannot read this camera file (" not in message, "caught by the readers' last resort, not named"
    assert result.get("read", False) == item.views, "refused by the wrong step" if item.views else "refused late"
    assert result["added_kib"] * 1024 < ADDED_MEMORY, f"{result['added_kib'] / 1024:.0f} MiB"


@pytest.mark.parametrize("name", ["json-fifo", "json-dev-zero", "json-nested-arrays", "npy-claims-1e12-poses",
                                  "npy-complex128", "transforms-translation-1e300", "transforms-w-missing-h-given",
                                  "transforms-k1-folds-at-the-centre", "cameras_json-view-number", "cameras_json-world_to_camera-singular",
                                  "colmap_text-image-twice", "colmap_binary-images-count-2^63", "images_txt-fifo"])
def test_the_command_line_answers_one_line_and_exit_code_2(name, written_corpus, tmp_path, capsys):
    """``depth-views render MESH --cameras BAD``: the camera file is refused before the mesh is opened."""
    from depth_views.cli import main

    item = written_corpus[name]
    code = main(["render", str(tmp_path / "never-opened.obj"), "--out", str(tmp_path / "out"), "--cameras", item.path])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2 and len(lines) == 1, captured.err
    assert lines[0].startswith(f"depth-views: error: {blamed_path(item)}: ") and item.problem in lines[0]
    assert not (tmp_path / "out").exists()
