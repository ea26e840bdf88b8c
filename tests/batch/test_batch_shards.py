"""``--formats webdataset`` end to end: real renders, real kills, two runs on one folder (needs bpy).

Every (mesh, view) must be in the shards exactly once, read with Python's tarfile and with the
webdataset library, and its depth identical to the folder layout's EXR of the same view.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tarfile
import time

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
webdataset = pytest.importorskip("webdataset")

from docs_blocks import docs_block  # noqa: E402

from depth_views.batch import read_failures, read_index, stream_views  # noqa: E402
from depth_views.cli import main  # noqa: E402
from depth_views.datasets import DepthViews  # noqa: E402
from depth_views.exr_io import read_depth  # noqa: E402
from depth_views.options import RenderOptions  # noqa: E402
from depth_views.outputs import shards  # noqa: E402
from repo import ROOT  # noqa: E402

VIEWS = 3
ARGS = ["--views", str(VIEWS), "--resolution", "40", "32", "--progress", "lines", "--quiet"]


@pytest.fixture
def dataset(four_meshes):
    """The batch tests' four meshes, one with a dot in its name (WebDataset keys must not have one)."""
    os.rename(four_meshes / "boxes" / "tall.obj", four_meshes / "boxes" / "tall.v2.obj")
    return four_meshes


NAMES = ["asym", "boxes/flat", "boxes/tall.v2", "plane"]


def tar_samples(out) -> list[tuple[str, int]]:
    """(mesh, view) of every sample of every finished shard, read with tarfile (one json per view)."""
    found = []
    for path in shards.finished_shards(str(out)):
        with tarfile.open(path) as tar:
            for member in tar.getmembers():
                if member.name.endswith(".json") and not shards.is_meta(member.name):
                    meta = json.loads(tar.extractfile(member).read())
                    found.append((meta["name"], meta["view_index"]))
    return found


def wds_depths(out) -> dict:
    urls = shards.finished_shards(str(out))
    found = {}
    for sample in webdataset.WebDataset(urls, shardshuffle=False).decode():
        key = (sample["json"]["name"], sample["json"]["view_index"])
        assert key not in found, f"{key} twice"
        found[key] = sample["depth.npz"]["depth"]
    return found


def assert_exactly_once(out, names=NAMES):
    everything = sorted((n, v) for n in names for v in range(VIEWS))
    assert sorted(tar_samples(out)) == everything
    assert sorted(wds_depths(out)) == everything
    index = read_index(str(out))
    assert sorted(e["name"] for e in index) == sorted(names)
    assert not [n for n in os.listdir(out / "shards") if not shards.SHARD_NAME.match(n)]
    assert not (out / ".partial").exists() and not (out / ".claims").exists()


def test_depth_in_shards_is_the_folder_layouts_exr(dataset, tmp_path, capsys):
    assert main(["batch", str(dataset), "--out", str(tmp_path / "folders"), *ARGS,
                 "--passes", "depth,normal,mask"]) == 0
    assert main(["batch", str(dataset), "--out", str(tmp_path / "wds"), *ARGS, "--passes", "depth,normal,mask",
                 "--formats", "webdataset", "--shard-views", "6"]) == 0
    assert_exactly_once(tmp_path / "wds")
    assert len(shards.finished_shards(str(tmp_path / "wds"))) == 2   # 3 views a mesh, 6 a shard at most
    samples = {(s["name"], s["view_index"]): s for s in DepthViews(str(tmp_path / "wds"))}
    documents = {d["name"]: d for d in DepthViews(str(tmp_path / "wds")).cameras()}
    for name in NAMES:
        folder = tmp_path / "folders" / name
        cameras = json.load(open(folder / "cameras.json"))
        for view in cameras["views"]:
            sample = samples[(name, view["index"])]
            exr = read_depth(str(folder / view["files"]["depth"]), allow_constant=True)
            np.testing.assert_array_equal(sample["depth"], exr)   # bit for bit, +inf included
            assert np.isposinf(exr).any()
            np.testing.assert_array_equal(sample["world_to_camera"], view["world_to_camera"])
            np.testing.assert_array_equal(sample["K"], cameras["K"])
            assert sample["normal"].shape == (32, 40, 3) and sample["mask"].dtype == np.int32
            assert sample["units"] == cameras["units"] and sample["depth_kind"] == "planar"
            assert sample["mesh"].endswith(os.path.basename(cameras["input"]))
            assert sample["coverage"] == view["coverage"] > 0 and sample["mesh_views"] == VIEWS
            assert not sample["normalized"] and np.array_equal(sample["object_to_world"], np.eye(4))
        document = documents[name]   # the shard's hidden member
        assert [v["world_to_camera"] for v in document["views"]] == [v["world_to_camera"] for v in cameras["views"]]
        assert [v["coverage"] for v in document["views"]] == [v["coverage"] for v in cameras["views"]]
    # the folder layout reads back through the same reader, with the same depth
    folders = {(s["name"], s["view_index"]): s["depth"] for s in DepthViews(str(tmp_path / "folders"))}
    assert len(folders) == len(samples)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "depth_views", *args], capture_output=True, text=True, timeout=600)


def test_random_sigkills_then_resume_every_view_exactly_once(dataset, tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "depth_views", "batch", str(dataset), "--out", str(out), *ARGS,
               "--formats", "webdataset", "--shard-views", str(VIEWS), "--workers", "1"]
    rng = random.Random(15)
    kills = 0
    for _ in range(4):
        # Kill a moment after the run finishes its next shard, while the next mesh renders (mid-shard):
        # each run makes progress and is killed with work left, however fast the machine is.
        finished = len(list((out / "shards").glob("shard-*.tar")))
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while process.poll() is None and time.monotonic() < deadline and \
                len(list((out / "shards").glob("shard-*.tar"))) <= finished:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.15))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
        # after each kill: what is in finished shards is complete, and only once
        found = tar_samples(out)
        assert len(found) == len(set(found))
    assert kills >= 2
    result = run_cli("batch", str(dataset), "--out", str(out), *ARGS, "--formats", "webdataset",
                     "--shard-views", str(VIEWS))
    assert result.returncode == 0, result.stderr
    assert_exactly_once(out)
    again = run_cli("batch", str(dataset), "--out", str(out), *ARGS, "--formats", "webdataset",
                    "--shard-views", str(VIEWS))
    assert again.returncode == 0 and "0 rendered, 4 already done" in again.stdout


@pytest.mark.parametrize("formats", ["webdataset", "exr"])
def test_two_concurrent_runs_on_one_folder_split_the_work(dataset, tmp_path, formats):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "depth_views", "batch", str(dataset), "--out", str(out),
               "--views", str(VIEWS), "--resolution", "40", "32", "--progress", "lines", "--workers", "1",
               "--formats", formats]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(run.wait(timeout=600), *run.communicate()) for run in runs]
    for code, stdout, stderr in results:
        assert code == 0, stderr   # also when the other run still held some meshes at the end
        assert "error" not in stderr, stderr
    rendered = [int(stdout.split(" rendered, ")[0].rsplit(" ", 1)[1]) for _, stdout, _ in results]
    assert sum(rendered) == 4, [r[1] for r in results]   # no mesh rendered twice
    assert read_failures(str(out)) == [] and not (out / "failures.jsonl").exists()
    if formats == "webdataset":
        assert_exactly_once(out)
    else:
        index = [e["name"] for e in read_index(str(out))]
        assert sorted(index) == NAMES and len(open(out / "index.jsonl").readlines()) == 4


def test_faults_give_one_line_and_leave_finished_shards_alone(dataset, tmp_path, capfd):
    out = tmp_path / "out"
    wds = ["--formats", "webdataset"]
    assert main(["batch", str(dataset), "--out", str(out), *ARGS, *wds, "--shard-views", "1"]) == 2
    assert "--shard-views 1: a shard holds whole meshes" in capfd.readouterr().err
    assert main(["batch", str(dataset), "--out", str(out), *ARGS, *wds, "--shard-size", "100"]) == 2
    assert "--shard-size 100: smaller than one 40x32 view" in capfd.readouterr().err
    assert main(["batch", str(dataset), "--out", str(out), *ARGS, *wds, "--shard-views", "6"]) == 0
    capfd.readouterr()
    assert main(["batch", str(dataset), "--out", str(out), *ARGS, "--views", "4", *wds]) == 2
    lines = capfd.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "rendered with other options (views: 3 here, 4 now)" in lines[0]
    # a finished shard truncated by hand (a bad copy): named, never read or changed
    first = shards.finished_shards(str(out))[0]
    with open(first, "r+b") as stream:
        stream.truncate(os.path.getsize(first) - 2048)
    before = {p: open(p, "rb").read() for p in shards.finished_shards(str(out))}
    assert main(["batch", str(dataset), "--out", str(out), *ARGS, *wds]) == 2
    lines = capfd.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "shard-000000.tar" in lines[0] and "move it out of the shards folder" in lines[0]
    assert before == {p: open(p, "rb").read() for p in shards.finished_shards(str(out))}
    # moved away as the message says: its meshes render again, into a new shard, once
    os.rename(first, tmp_path / "bad.tar")
    assert main(["batch", str(dataset), "--out", str(out), *ARGS, *wds]) == 0
    assert sorted(tar_samples(out)) == sorted((n, v) for n in NAMES for v in range(VIEWS))
    assert main(["batch", str(dataset), "--out", str(out), *ARGS, "--formats", "webdataset,exr"]) == 2
    assert "webdataset writes tar shards and goes alone" in capfd.readouterr().err


def test_full_disk_during_a_batch_keeps_the_finished_shards(dataset, tmp_path, capfd):
    import shutil

    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(disk)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        args = ["--views", "6", "--resolution", "96", "96", "--progress", "lines", "--quiet",
                "--formats", "webdataset", "--passes", "depth,normal", "--shard-views", "6", "--workers", "1"]
        code = main(["batch", str(dataset), "--out", str(disk / "out"), *args])
        err = capfd.readouterr().err
        finished = shards.finished_shards(str(disk / "out"))
        assert code == 2 and "the disk is full" in err, err
        assert len(err.strip().splitlines()) == 1 and read_failures(str(disk / "out")) == []   # not the meshes' fault
        assert not [n for n in os.listdir(disk / "out" / "shards") if n.startswith(".tmp-")]
        before = {p: open(p, "rb").read() for p in finished}
        done = {e["name"] for e in read_index(str(disk / "out"))}
        assert finished and 1 <= len(done) < 4   # the disk filled up half way
        assert sorted(n for n, _ in tar_samples(disk / "out")) == sorted(n for n in done for _ in range(6))
        # room again (drop the tmpfs size limit): the rest renders, the finished shards stay as they were
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        assert main(["batch", str(dataset), "--out", str(disk / "out"), *args]) == 0
        assert before == {p: open(p, "rb").read() for p in finished}
        assert sorted(tar_samples(disk / "out")) == sorted((n, v) for n in NAMES for v in range(6))
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_render_command_and_stream_views_write_shards(dataset, tmp_path, capsys):
    out = tmp_path / "render"
    inputs = [str(dataset / "asym.ply"), str(dataset / "plane.stl")]
    assert main(["render", *inputs, "--out", str(out), "--views", "2", "--resolution", "40", "32",
                 "--formats", "webdataset", "--quiet"]) == 0
    assert "2 of 2 inputs" in capsys.readouterr().out
    assert sorted(s["name"] for s in DepthViews(str(out))) == ["asym", "asym", "plane", "plane"]
    assert main(["render", *inputs, "--out", str(out), "--views", "2", "--resolution", "40", "32",
                 "--formats", "webdataset"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("already in shards/shard-000000.tar") == 2
    assert "rendered 0 of 2 inputs" in printed and "(0 shards)" in printed and "; 2 already there" in printed
    options = RenderOptions(views=VIEWS, resolution=(40, 32), formats=("webdataset",))
    streamed = list(stream_views(str(dataset), str(tmp_path / "stream"), options, workers=1))
    assert sorted((v.name, v.index) for v in streamed) == sorted((n, i) for n in NAMES for i in range(VIEWS))
    assert all(v.depth.dtype == np.float32 and v.K.shape == (3, 3) for v in streamed)
    assert_exactly_once(tmp_path / "stream")
    again = list(stream_views(str(dataset), str(tmp_path / "stream"), options, include_finished=True))
    by_key = {(v.name, v.index): v.depth for v in streamed}
    assert sorted(by_key) == sorted((v.name, v.index) for v in again)
    for view in again:
        np.testing.assert_array_equal(view.depth, by_key[(view.name, view.index)])


def doc_blocks(language: str) -> list[str]:
    text = open(os.path.join(ROOT, "docs", "datasets.md"), encoding="utf-8").read()
    blocks, inside, lines = [], None, []
    for line in text.splitlines():
        if line.startswith("```"):
            if inside is None:
                inside, lines = line[3:].strip(), []
            else:
                if inside == language:
                    blocks.append("\n".join(lines))
                inside = None
        elif inside is not None:
            lines.append(line)
    return blocks


def test_docs_datasets_commands_run(tmp_path, monkeypatch):
    import trimesh

    (tmp_path / "meshes" / "chairs").mkdir(parents=True)
    trimesh.creation.box(extents=(1, 0.6, 0.4)).export(tmp_path / "meshes" / "chairs" / "a1.obj")
    trimesh.creation.icosphere().export(tmp_path / "meshes" / "ball.v2.ply")
    trimesh.creation.cylinder(radius=0.3, height=1).export(tmp_path / "meshes" / "can.stl")
    shells = [docs_block("docs/datasets.md", "batch")]  # the page's blocks, through its docs markers
    assert len(doc_blocks("bash")) == 1 and "--formats webdataset" in shells[0]
    prelude = f'depth-views() {{ "{sys.executable}" -m depth_views "$@"; }}\nset -e\n'
    result = subprocess.run(["bash", "-c", prelude + shells[0]], cwd=tmp_path, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    shown = next(b for b in doc_blocks("") if "shard-000000.tar" in b)
    def member(line):  # which mesh lands first in a shard depends on which worker finishes first
        key, _, rest = line.rpartition("/")
        if key == "__meta__":   # a mesh's hidden cameras.json member
            return "__meta__/__*.cameras.json" if rest.startswith("__") and rest.endswith(".cameras.json") else line
        return rest if key and rest[:4].isdigit() else line

    printed = result.stdout.splitlines()
    assert sum(line.startswith("__meta__/") for line in printed) == 2   # two meshes in the first shard
    for line in printed[-12:]:   # ls and tar tf print exactly what the page shows
        assert member(line) in [member(shown_line) for shown_line in shown.splitlines()], line
    monkeypatch.chdir(tmp_path)
    ran = 0
    python_blocks = [docs_block("docs/datasets.md", "reader"), docs_block("docs/datasets.md", "torch"),
                     docs_block("docs/datasets.md", "webdataset")]
    assert len(python_blocks) + 3 == len(doc_blocks("python"))   # and test_hf.py's two, test_multiview.py's one
    for block in python_blocks:
        if "import torch" in block:
            try:
                import torch  # noqa: F401
            except ImportError:
                continue   # the DataLoader loop runs where PyTorch is installed
        exec(compile(block, "docs/datasets.md", "exec"), {})
        ran += 1
    assert ran >= 2


def test_job_array_parts_write_each_view_once(dataset, tmp_path):
    out = tmp_path / "out"
    for k in range(2):
        assert main(["batch", str(dataset), "--out", str(out), *ARGS, "--formats", "webdataset",
                     "--part", f"{k}/2"]) == 0
    assert_exactly_once(out)
    assert sorted(os.listdir(out)) == [".runs", "dataset.json", "index.part-0-of-2.jsonl", "index.part-1-of-2.jsonl",
                                       "shards"]
    # what status needs: the sources of each part (the runs' own records went with them)
    assert sorted(n.split("-part-")[1] for n in os.listdir(out / ".runs")) == ["0-of-2.json", "1-of-2.json"]
    assert main(["status", str(out)]) == 0


def test_shards_and_folders_carry_the_xyz_pass_and_the_camera_model_alike(tmp_path):
    """A fisheye render with the xyz pass: the shard sample and the folder layout read through the same
    reader give the same depth, xyz, depth kind and camera model."""
    import trimesh

    (tmp_path / "in").mkdir()
    trimesh.creation.box(extents=(1, 0.6, 0.4)).export(tmp_path / "in" / "box.obj")
    common = ["--views", "2", "--resolution", "40", "32", "--quiet", "--passes", "depth,xyz",
              "--camera-model", "fisheye", "--fisheye-fov", "170"]
    assert main(["render", str(tmp_path / "in" / "box.obj"), "--out", str(tmp_path / "folders"), *common]) == 0
    assert main(["render", str(tmp_path / "in" / "box.obj"), "--out", str(tmp_path / "wds"), *common,
                 "--formats", "webdataset"]) == 0
    folder = {s["view_index"]: s for s in DepthViews(str(tmp_path / "folders"))}
    shard = {s["view_index"]: s for s in DepthViews(str(tmp_path / "wds"))}
    assert sorted(folder) == sorted(shard) == [0, 1]
    for index, sample in shard.items():
        assert sample["depth_kind"] == folder[index]["depth_kind"] == "ray_length"
        assert sample["camera_model"] == folder[index]["camera_model"] == "OPENCV_FISHEYE"
        np.testing.assert_array_equal(sample["depth"], folder[index]["depth"])
        np.testing.assert_allclose(sample["xyz"], folder[index]["xyz"], rtol=0, atol=1e-6)
        assert np.array_equal(np.isfinite(sample["depth"]), np.isfinite(sample["xyz"][..., 0]))


RENDER_NAMES = ["asym", "flat", "plane", "tall.v2"]   # the render command names its inputs by their stems


def render_inputs(dataset) -> list[str]:
    return [str(dataset / "asym.ply"), str(dataset / "boxes" / "flat.obj"), str(dataset / "plane.stl"),
            str(dataset / "boxes" / "tall.v2.obj")]


def test_render_command_honours_another_runs_claim_and_resumes(dataset, tmp_path, capfd):
    """``render --formats webdataset`` is the batch's run: a mesh another live run claimed is left to
    it (exit 0: it is that run's to finish; status says in progress), taken over once that run is gone;
    a failed input goes to failures.jsonl and is tried again by the next render."""
    import hashlib
    import platform
    import shutil

    out = tmp_path / "out"
    inputs = render_inputs(dataset) + [str(tmp_path / "missing.obj")]
    common = ["--out", str(out), "--views", str(VIEWS), "--resolution", "40", "32", "--formats", "webdataset"]
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])   # "another run"
    try:
        (out / ".claims").mkdir(parents=True)
        claim = out / ".claims" / (hashlib.sha1(b"flat").hexdigest()[:24] + ".claim")
        claim.write_text(json.dumps({"name": "flat", "host": platform.node(), "pid": holder.pid, "run": "other",
                                     "time": time.time()}))
        assert main(["render", *inputs, *common]) == 1   # one input is missing
        printed, errors = capfd.readouterr()
        assert f"[2/5] {inputs[1]}: another run on this folder is rendering it" in printed
        assert "rendered 3 of 5 inputs" in printed and "; 1 left to another run; 1 failed" in printed
        assert errors.strip() == f"depth-views: error: {tmp_path / 'missing.obj'}: no such file"
        assert sorted(e["name"] for e in read_index(str(out))) == ["asym", "plane", "tall.v2"]
        assert [(f["name"], f["stage"]) for f in read_failures(str(out))] == [("missing", "import")]
        assert claim.exists()   # never taken from a live run
        assert main(["render", *render_inputs(dataset), *common]) == 0
        assert "rendered 0 of 4 inputs" in capfd.readouterr().out
        assert main(["status", str(out)]) == 3   # the holder is alive: in progress
        assert "  flat  " in capfd.readouterr().out
    finally:
        holder.kill()
        holder.wait()
    # the holder is gone: its claim is taken over; the missing input is there now and is tried again
    shutil.copy(dataset / "boxes" / "flat.obj", tmp_path / "missing.obj")
    assert main(["render", *inputs, *common, "--quiet"]) == 0
    printed = capfd.readouterr().out
    assert "rendered 2 of 5 inputs" in printed and "; 3 already there" in printed and "failed" not in printed
    assert read_failures(str(out)) == [] and not claim.exists()
    assert_exactly_once(out, RENDER_NAMES + ["missing"])
    assert main(["status", str(out)]) == 0


def test_two_concurrent_render_commands_never_render_a_mesh_twice(dataset, tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "depth_views", "render", *render_inputs(dataset), "--out", str(out),
               "--views", str(VIEWS), "--resolution", "40", "32", "--formats", "webdataset"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(run.wait(timeout=600), *run.communicate()) for run in runs]
    for code, stdout, stderr in results:
        assert code == 0, stderr   # also when the other run still held some meshes at the end
        assert "error" not in stderr, stderr
    rendered = [int(stdout.split("depth-views: rendered ")[1].split(" ")[0]) for _, stdout, _ in results]
    assert sum(rendered) == 4, [r[1] for r in results]   # no mesh rendered twice
    assert_exactly_once(out, RENDER_NAMES)
    again = run_cli("render", *render_inputs(dataset), "--out", str(out), "--views", str(VIEWS),
                    "--resolution", "40", "32", "--formats", "webdataset", "--quiet")
    assert again.returncode == 0 and "rendered 0 of 4 inputs" in again.stdout and "4 already there" in again.stdout


def test_equirectangular_samples_have_a_zero_k_not_null(tmp_path):
    """An equirectangular camera has no K: the shard json says K = all zeros (never null, so every sample
    of a DIR has one type), the reader gives zeros for both layouts, stream_views keeps None."""
    import trimesh

    (tmp_path / "in").mkdir()
    trimesh.creation.box(extents=(1, 0.6, 0.4)).export(tmp_path / "in" / "box.obj")
    common = ["--views", "2", "--resolution", "32", "16", "--quiet", "--camera-model", "equirectangular"]
    assert main(["render", str(tmp_path / "in" / "box.obj"), "--out", str(tmp_path / "folders"), *common]) == 0
    assert main(["render", str(tmp_path / "in" / "box.obj"), "--out", str(tmp_path / "wds"), *common,
                 "--formats", "webdataset"]) == 0
    [path] = shards.finished_shards(str(tmp_path / "wds"))
    with tarfile.open(path) as tar:
        metas = [json.loads(tar.extractfile(m).read()) for m in tar.getmembers()
                 if m.name.endswith(".json") and not shards.is_meta(m.name)]
    assert [m["K"] for m in metas] == [np.zeros((3, 3)).tolist()] * 2
    assert all(m["camera_model"] == "EQUIRECTANGULAR" and m["coverage"] > 0 for m in metas)
    for source in ("folders", "wds"):
        samples = list(DepthViews(str(tmp_path / source)))
        assert len(samples) == 2 and all(np.array_equal(s["K"], np.zeros((3, 3))) for s in samples)
        assert all(s["camera_model"] == "EQUIRECTANGULAR" for s in samples)
    from depth_views.batch.inputs import BatchInput
    from depth_views.batch.run import shard_views

    streamed = list(shard_views(BatchInput(str(tmp_path / "in" / "box.obj"), "box"), shards.iter_shard(path)))
    assert [v.index for v in streamed] == [0, 1] and all(v.K is None and v.object_to_world is None for v in streamed)
