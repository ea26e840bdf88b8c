"""Output folders that cannot take the files: a file, read-only, a full disk (needs bpy).

Each fails with one line naming the file or folder; the other inputs still render (where the disk
allows); finished outputs are never changed and no temporary or half-written file is left.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess

import pytest

bpy = pytest.importorskip("bpy")

import make_corpus  # noqa: E402
from checks import tree_digest  # noqa: E402

from depth_views.cli import main  # noqa: E402
from depth_views.exr_io import read_depth, writing  # noqa: E402

SMALL = ["--resolution", "32", "32", "--views", "2", "--quiet"]


def write_boxes(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    vertices, faces = make_corpus.box_mesh()
    paths = []
    for name in names:
        (folder / name).write_bytes(make_corpus.obj_bytes(vertices, faces))
        paths.append(str(folder / name))
    return paths


def error_lines(capfd):
    return [line for line in capfd.readouterr().err.splitlines() if line.strip()]


def assert_clean(out):
    """No temporary files and every EXR complete."""
    for root, _, files in os.walk(out):
        for name in files:
            assert not name.startswith("."), f"temporary file left: {os.path.join(root, name)}"
            if name.endswith(".exr"):
                read_depth(os.path.join(root, name))


def test_out_is_a_file(tmp_path, capfd):
    inputs = write_boxes(tmp_path / "in", "a.obj")
    (tmp_path / "taken").write_text("keep me")
    assert main(["render", *inputs, "--out", str(tmp_path / "taken"), *SMALL]) == 2
    lines = error_lines(capfd)
    assert lines == [f"depth-views: error: {tmp_path / 'taken'}: --out is a file, not a folder"]
    assert (tmp_path / "taken").read_text() == "keep me"


class FullDisk:
    """Stands in for the OpenEXR module in exr_io.writing: after ``allowed`` files, every write puts a
    few bytes into the file and fails with ENOSPC, as a disk that fills up mid-file does."""

    def __init__(self, real, allowed):
        self.real, self.allowed = real, allowed

    def __getattr__(self, name):
        return getattr(self.real, name)

    def File(self, *args, **kwargs):  # noqa: N802 - OpenEXR's name
        exr_file, disk = self.real.File(*args, **kwargs), self
        if args and isinstance(args[0], (str, os.PathLike)):
            return exr_file  # reading a file back

        class Writer:
            def write(self, path):
                if disk.allowed <= 0:
                    with open(path, "wb") as stream:
                        stream.write(b"v/1\x01 half a header")
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
                disk.allowed -= 1
                exr_file.write(path)

        return Writer()


def test_disk_full_mid_input_loses_nothing_finished(tmp_path, capfd, monkeypatch):
    first, second, third = write_boxes(tmp_path / "in", "first.obj", "second.obj", "third.obj")
    out = tmp_path / "out"
    assert main(["render", first, "--out", str(out), *SMALL]) == 0
    finished = tree_digest(out)
    disk = FullDisk(writing.OpenEXR, allowed=1)  # second.obj: view 0 fits, view 1 does not
    monkeypatch.setattr(writing, "OpenEXR", disk)
    assert main(["render", second, "--out", str(out), *SMALL]) == 1
    lines = error_lines(capfd)
    expected = str(out / "second" / "depth" / "0001.exr")
    assert len(lines) == 1 and lines[0].startswith(f"depth-views: error: {expected}: ")
    assert "No space left on device" in lines[0], lines[0]
    assert sorted(os.listdir(out / "second" / "depth")) == ["0000.exr"]  # complete views only
    assert not (out / "second" / "cameras.json").exists()  # so the input reads as unfinished
    monkeypatch.setattr(writing, "OpenEXR", disk.real)
    assert main(["render", third, "--out", str(out), *SMALL]) == 0
    assert {path: tree_digest(out)[path] for path in finished} == finished
    assert_clean(out)


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 1 MiB tmpfs mounted in tmp_path (root with mount rights only; skipped elsewhere, where the
    monkeypatched full disk above still runs)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip()})")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(folder, leave_bytes):
    stat = os.statvfs(folder)
    free = stat.f_bavail * stat.f_frsize
    with open(folder / "filler", "wb") as stream:
        stream.write(b"\0" * max(0, free - leave_bytes))
        stream.flush()
        os.fsync(stream.fileno())


def test_a_really_full_disk(small_tmpfs, tmp_path, capfd):
    inputs = write_boxes(tmp_path / "in", "a.obj", "b.obj", "c.obj")
    out = small_tmpfs / "out"
    assert main(["render", inputs[0], "--out", str(out), *SMALL]) == 0
    finished = tree_digest(out)
    fill(small_tmpfs, leave_bytes=8192)  # room for about one more view
    assert main(["render", *inputs[1:], "--out", str(out), *SMALL]) == 1
    lines = error_lines(capfd)
    assert lines and all(line.startswith("depth-views: error: " + str(out)) for line in lines), lines
    assert any("No space left on device" in line for line in lines), lines
    assert {path: tree_digest(out)[path] for path in finished} == finished
    assert_clean(out)
    os.remove(small_tmpfs / "filler")  # space again: the same command now finishes everything
    assert main(["render", *inputs, "--out", str(out), *SMALL]) == 0
    assert_clean(out)


def test_a_read_only_output_folder(tmp_path, capfd):
    """chmod for an ordinary user; for root (who ignores modes) a read-only tmpfs remount."""
    inputs = write_boxes(tmp_path / "in", "a.obj", "b.obj")
    out = tmp_path / "out"
    mounted = False
    if os.geteuid() == 0:
        out.mkdir()
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(out)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"root ignores file modes and cannot mount here ({result.stderr.strip()})")
        mounted = True
    try:
        assert main(["render", inputs[0], "--out", str(out), *SMALL]) == 0
        finished = tree_digest(out)
        if mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(out)], check=True)
        else:
            for root, dirs, _ in os.walk(out):
                os.chmod(root, 0o555)
        assert main(["render", *inputs, "--out", str(out), *SMALL]) == 1
        lines = error_lines(capfd)
        assert len(lines) == 2, lines
        for line, name in zip(lines, ("a", "b")):
            assert line.startswith(f"depth-views: error: {out / name}"), line
            assert "Read-only file system" in line or "not writable" in line or "Permission denied" in line
        assert tree_digest(out) == finished
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(out)], check=False)
        else:
            for root, dirs, _ in os.walk(out):
                os.chmod(root, 0o755)
