"""docs/camera-files.md: every command it shows runs, from the repository root, and prints what it shows
(timings aside; for ``check``, the verdict and each view's ok/FAIL)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import pytest
from repo import ROOT  # noqa: E402

DOC = os.path.join(ROOT, "docs", "camera-files.md")


def documented_commands() -> list[tuple[str, list[str]]]:
    """(command, the output lines shown under it) of every ``$ `` line in the doc's console blocks."""
    commands, inside = [], False
    for line in open(DOC, encoding="utf-8").read().splitlines():
        if line.startswith("```"):
            inside = line.strip() == "```console"
            continue
        if inside and line.startswith("$ "):
            commands.append((line[2:], []))
        elif inside and commands:
            commands[-1][1].append(line)
    return commands


def _timeless(line: str) -> str:
    return re.sub(r"\d+(\.\d+)? (s|views/s)\b", "T", line)


def test_the_doc_shows_every_source():
    text = " ".join(command for command, _ in documented_commands())
    for needle in ("transforms.json", "transforms_train.json", "camera_files/sparse", "camera_files/sparse_opencv",
                   "poses.npy", "cameras.json",
                   "--intrinsics", "--formats exr,colmap,nerf_synthetic", "--radius 4:6", "--fov 35:50",
                   "depth-views check", "broken.json"):
        assert needle in text


def test_every_documented_command_runs_and_prints_what_the_doc_shows(tmp_path, monkeypatch, capsys):
    pytest.importorskip("bpy")
    from depth_views.cli import main
    from depth_views.compositor.compat import custom_camera_problem

    lens_refusal = custom_camera_problem()   # Blender 4.2: a distorted camera file is refused, as the doc says

    os.symlink(os.path.join(ROOT, "examples"), tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    prefix = str(tmp_path) + os.sep
    for command, shown in documented_commands():
        argv = shlex.split(command)
        if argv[0] == "python":
            result = subprocess.run([sys.executable, *argv[1:]], capture_output=True, text=True, check=True)
            assert result.stdout.splitlines() == shown, command
            continue
        assert argv[0] == "depth-views", command
        code = main(argv[1:])
        captured = capsys.readouterr()
        printed = [line.replace(prefix, "") for line in (captured.out + captured.err).splitlines()]
        if lens_refusal and "sparse_opencv" in command:
            assert code == 2 and printed[-1].startswith("depth-views: error:") and lens_refusal in printed[-1], command
            assert not os.path.exists("out/colmap_opencv/suzanne/cameras.json"), command
        elif any(line.startswith("depth-views: error:") for line in shown):
            assert code == 2 and printed == shown, command
        elif argv[1] == "check":
            assert code == 0 and printed[-1] == shown[-1], command
            assert [line.split()[-1] for line in printed] == [line.split()[-1] for line in shown], command
        else:
            assert code == 0 and [_timeless(x) for x in printed] == [_timeless(x) for x in shown], command
