"""Settings resolved once per run: a ``--cameras`` file is opened once by ``render`` (whatever the number
of inputs) and at most once per process by ``batch`` (the workers receive the resolved setup), counted
with strace on the real commands; and the setup is a frozen copy of the options it was made from."""

from __future__ import annotations

import collections
import glob
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from camera_files import world_to_camera_seeing, write_transforms

from depth_views import RenderOptions, resolve

W, H = 32, 24
K = [[30.0, 0.0, 15.5], [0.0, 30.0, 11.5], [0.0, 0.0, 1.0]]


def write_camera_file(folder) -> str:
    cameras = [(K, world_to_camera_seeing(position, (0.0, 0.0, 0.0), K, W, H), W, H)
               for position in ((4.0, 0.5, 1.0), (-1.0, 4.0, 0.5), (0.5, -1.0, 4.0))]
    return write_transforms(folder / "transforms.json", cameras)


def test_the_setup_is_a_frozen_copy_and_carries_the_files_views(tmp_path):
    options = RenderOptions(cameras_file=write_camera_file(tmp_path), resolution=(8, 8))
    setup = resolve(options)
    options.resolution, options.cameras_file = (64, 64), None   # the caller's object changes; the setup does not
    assert setup.options.cameras_file is not None and setup.n_views == 3
    assert (setup.intrinsics.width, setup.intrinsics.height) == (W, H)   # the file's size, not --resolution
    np.testing.assert_allclose(setup.intrinsics.K, K)
    with pytest.raises(AttributeError):
        setup.intrinsics = None
    views = setup.views_around((4.0, 0.5, 0.0))
    assert views[0].radius == pytest.approx(1.0) and views[0].elevation_deg == pytest.approx(90.0)
    assert np.array_equal(views[0].camera_to_world, setup.file_views[0].camera_to_world)


def _meshes(folder) -> list[str]:
    pytest.importorskip("trimesh")
    from meshes import asymmetric_mesh, write_mesh

    mesh = asymmetric_mesh()
    return [write_mesh(mesh, folder / name) for name in ("a.obj", "b.ply", "c.stl")]


def _opens_per_process(log_prefix: str, path: str) -> dict[int, int]:
    """{pid: successful opens of ``path``} from ``strace -ff -o log_prefix`` files."""
    pattern = re.compile(r'open(?:at)?\(.*"' + re.escape(path) + r'", [^)]*\) = \d+')
    counts = collections.Counter()
    for log in glob.glob(log_prefix + ".*"):
        pid = int(log.rsplit(".", 1)[1])
        with open(log, encoding="utf-8", errors="replace") as stream:
            counts[pid] += sum(1 for line in stream if pattern.search(line))
    return counts


def _strace(tmp_path, arguments) -> tuple[subprocess.CompletedProcess, str]:
    pytest.importorskip("bpy")
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (apt-get install strace)")
    log = str(tmp_path / "trace")
    result = subprocess.run(["strace", "-f", "-ff", "-e", "trace=open,openat", "-o", log, sys.executable, "-m",
                             "depth_views", *arguments], capture_output=True, text=True, timeout=900)
    return result, log


def test_render_of_three_inputs_opens_the_camera_file_once(tmp_path):
    cameras = write_camera_file(tmp_path)
    result, log = _strace(tmp_path, ["render", *_meshes(tmp_path), "--out", str(tmp_path / "out"),
                                     "--cameras", cameras, "--quiet"])
    assert result.returncode == 0, result.stderr
    assert "rendered 3 of 3 inputs" in result.stdout
    opens = _opens_per_process(log, cameras)
    assert sum(opens.values()) == 1, opens


def test_batch_workers_receive_the_setup_and_never_reopen_the_camera_file(tmp_path):
    cameras = write_camera_file(tmp_path)
    source = tmp_path / "meshes"
    source.mkdir()
    _meshes(source)
    result, log = _strace(tmp_path, ["batch", str(source), "--out", str(tmp_path / "out"), "--cameras", cameras,
                                     "--workers", "2", "--progress", "lines", "--quiet"])
    assert result.returncode == 0, result.stderr
    assert len(glob.glob(str(tmp_path / "out" / "*" / "depth" / "*.exr"))) == 9
    opens = _opens_per_process(log, cameras)
    assert sum(opens.values()) == 1 and max(opens.values()) == 1, opens   # the parent's one read
