"""``render --formats webdataset`` renders through the batch's run in its own process
(batch/in_process.py); here what holds without Blender.  The renders themselves are in
tests/batch/test_batch_shards.py."""

from __future__ import annotations

import os
import subprocess
import sys

from repo import ROOT


def test_without_bpy_one_line_and_nothing_written(tmp_path):
    argv = ["render", os.path.join(ROOT, "examples", "suzanne.obj"), "--out", str(tmp_path / "out"),
            "--formats", "webdataset"]
    code = ("import sys; sys.modules['bpy'] = None\n"   # this Python has no Blender module
            f"from depth_views.cli import main; sys.exit(main({argv!r}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("depth-views: error: rendering needs Blender's Python module bpy")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()   # no dataset.json recording options of a run that cannot render
