"""Every command of docs/camera-models.md runs as written and gives what the page says."""

from __future__ import annotations

import json
import math
import os
import re
import shlex

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from docs_blocks import docs_block  # noqa: E402
from meshes import asymmetric_mesh, write_mesh  # noqa: E402

from depth_views.cli import main  # noqa: E402
from depth_views.compositor.compat import custom_camera_problem  # noqa: E402
from repo import ROOT  # noqa: E402

DOC = os.path.join(ROOT, "docs", "camera-models.md")


def doc_text() -> str:
    with open(DOC, encoding="utf-8") as stream:
        return stream.read()


def doc_commands() -> list[str]:
    """The page's commands, read through its docs markers (tests/docs_blocks.py)."""
    blocks = [docs_block("docs/camera-models.md", "perspective"), docs_block("docs/camera-models.md", "orthographic"),
              docs_block("docs/camera-models.md", "fisheye"), docs_block("docs/camera-models.md", "equirectangular"),
              docs_block("docs/camera-models.md", "front"), docs_block("docs/camera-models.md", "lens_fisheye")]
    assert len(blocks) == len(re.findall(r"```bash\n", doc_text())), "every bash block of the page is read"
    return [line for block in blocks for line in block.splitlines() if line.startswith("depth-views render")]


def scene_mesh():
    import trimesh

    floor = trimesh.Trimesh([[-30, -30, 0], [30, -30, 0], [30, 30, 0], [-30, 30, 0]], [[0, 1, 2], [0, 2, 3]],
                            process=False)
    return trimesh.util.concatenate([asymmetric_mesh(), floor])


@pytest.fixture
def inputs(tmp_path, monkeypatch):
    write_mesh(asymmetric_mesh(), tmp_path / "asym.ply")
    write_mesh(scene_mesh(), tmp_path / "scene.ply")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _cameras(folder) -> dict:
    with open(os.path.join(folder, "cameras.json"), encoding="utf-8") as stream:
        return json.load(stream)


def test_the_page_shows_six_commands():
    assert len(doc_commands()) == 6


@pytest.mark.parametrize("command", doc_commands(), ids=lambda c: c.split("--out ")[1].split()[0])
def test_every_documented_command_runs_and_writes_what_the_page_says(inputs, command, capsys):
    args = shlex.split(command)[1:]
    if "--lens-model" in command and custom_camera_problem():   # Blender 4.2: refused in one line, as the page says
        assert main(args) == 2
        assert custom_camera_problem() in capsys.readouterr().err.strip().splitlines()[-1]
        assert not os.path.exists(os.path.join(args[args.index("--out") + 1], "scene", "cameras.json"))
        return
    assert main(args + ["--quiet"]) == 0
    out = args[args.index("--out") + 1]
    stem = os.path.splitext(args[1])[0]
    folder = inputs / out / stem
    cameras = _cameras(folder)
    name = out.split("/")[1]
    transforms = folder / "transforms.json"
    if name == "perspective":
        assert cameras["camera_model"] == "PINHOLE" and cameras["depth_kind"] == "planar"
    elif name == "orthographic":
        assert (cameras["camera_model"], cameras["ortho_scale"], cameras["depth_kind"]) == ("ORTHOGRAPHIC", 8.0, "planar")
        assert cameras["K"][0][0] == cameras["K"][1][1] == 12.0 and not transforms.exists()
    elif name == "fisheye":
        assert (cameras["camera_model"], cameras["fisheye_fov_deg"], cameras["depth_kind"]) == \
            ("OPENCV_FISHEYE", 180.0, "ray_length")
        assert round(cameras["K"][0][0], 2) == round(cameras["K"][1][1], 2) == 50.93 == round(160 / math.pi, 2)
        ns = json.loads(transforms.read_text())
        assert ns["camera_model"] == "OPENCV_FISHEYE" and [ns[k] for k in ("k1", "k2", "k3", "k4")] == [0.0] * 4
    elif name == "equirectangular":
        assert cameras["camera_model"] == "EQUIRECTANGULAR" and cameras["K"] is None
        assert cameras["longitude_range_deg"] == [-180.0, 180.0] and cameras["latitude_range_deg"] == [-90.0, 90.0]
        ns = json.loads(transforms.read_text())
        assert (ns["camera_model"], ns["fl_x"], ns["fl_y"], ns["cx"], ns["cy"]) == ("EQUIRECTANGULAR", 128, 128, 128, 64)
    elif name == "lens_fisheye":
        lens = [789.2, 791.4, 880.3, 590.1, -0.0306, -0.0048, 0.0012, -0.0002]
        assert (cameras["camera_model"], cameras["lens_params"], cameras["depth_kind"]) == \
            ("OPENCV_FISHEYE", lens, "ray_length")
        assert (cameras["width"], cameras["height"]) == (1752, 1168)
        ns = json.loads(transforms.read_text())
        assert ns["camera_model"] == "OPENCV_FISHEYE" and [ns[k] for k in ("fl_x", "fl_y", "cx", "cy", "k1", "k2",
                                                                           "k3", "k4")] == lens
    else:
        assert cameras["longitude_range_deg"] == [-90.0, 90.0] and cameras["latitude_range_deg"] == [-60.0, 30.0]
    if "preview" in command:
        from PIL import Image

        image = np.asarray(Image.open(folder / "preview" / "0000.png"))
        assert image.shape[:2] == (cameras["height"], cameras["width"])
        if name == "equirectangular":   # sky (background, black) straight up, floor straight ahead
            assert (image[:10].max(axis=-1) == 0).all() and (image[60:68, 120:136].max(axis=-1) > 0).all()
        if name == "fisheye":           # the corners lie outside the image circle
            assert (image[:8, :8] == 0).all() and (image[80, 80] > 0).any()
        if name == "lens_fisheye":      # the top corners see beyond the floor, the middle sees the object
            assert (image[:8, :8] == 0).all() and (image[584, 876] > 0).any()


def test_the_lens_fisheye_prints_what_the_page_shows(inputs, capsys):
    """The page's "printed:" block under the lens fisheye command is what the command prints (timings aside)."""
    command = next(c for c in doc_commands() if "--lens-model" in c)
    if custom_camera_problem():
        pytest.skip(f"the lens fisheye {custom_camera_problem()} (its refusal: the test above)")
    shown = doc_text().split(command, 1)[1].split("printed:", 1)[1].split("```", 2)[1].strip().splitlines()
    assert main(shlex.split(command)[1:]) == 0
    printed = [line.replace(str(inputs) + os.sep, "") for line in capsys.readouterr().out.strip().splitlines()]

    def timeless(line):
        return re.sub(r"\d+(\.\d+)? (s|views/s)\b", "T", line)

    assert [timeless(line) for line in printed] == [timeless(line) for line in shown]


def test_the_documented_bad_input_line(inputs, capsys):
    line = re.search(r"^depth-views: error: --fisheye-fov 400.*$", doc_text(), flags=re.M).group(0)
    assert main(["render", "asym.ply", "--out", "out/bad", "--camera-model", "fisheye", "--fisheye-fov", "400",
                 "--quiet"]) != 0
    assert capsys.readouterr().err.strip().splitlines()[-1] == line
    assert not os.path.exists(inputs / "out" / "bad" / "asym" / "cameras.json")
