"""``depth-views status DIR`` / ``dataset_status`` on folders made by hand (no Blender): the four states,
claims of live, gone and remote runs, job-array parts, the recorded sources, and the exit codes."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time

import pytest

from depth_views.batch import claims as claims_module, dataset_status, store
from depth_views.batch.inputs import parse_part, part_of
from depth_views.cli import main
from depth_views.errors import DepthViewsError
from depth_views.options import RenderOptions

NAMES = ["a", "b", "c", "d", "e", "f"]


def recorded_dir(tmp_path, part=None):
    """Sources src/a.obj ... src/f.obj and an output folder whose run (of ``part``) recorded them; nothing
    done yet."""
    src = tmp_path / "src"
    src.mkdir()
    for name in NAMES:
        (src / f"{name}.obj").write_text("v 0 0 0\n")
    out = tmp_path / "out"
    out.mkdir()
    claims_module.check_dataset_options(str(out), RenderOptions(views=2))
    claims_module.record_inputs(str(out), claims_module.inputs_request([str(src)]), part)
    return src, out


@pytest.fixture
def batch_dir(tmp_path):
    return recorded_dir(tmp_path)


def finish(out, name, src):
    """Mesh ``name`` done as a batch leaves it: its folder with cameras.json, and its index line."""
    folder = out / name
    (folder / "depth").mkdir(parents=True)
    (folder / "cameras.json").write_text(json.dumps({"views": [{"index": 0}, {"index": 1}]}))
    store.Journal(store.journal_path(str(out), store.INDEX_STEM, None)).append(
        store.index_entry(str(out), name, str(src / f"{name}.obj")))


def fail(out, name, src, error="no faces"):
    store.Journal(store.journal_path(str(out), store.FAILURES_STEM, None)).append(
        store.failure_entry(name, str(src / f"{name}.obj"), "check", f"{src / name}.obj: {error}"))


def claim(out, name, *, host=None, pid=None, age=0.0):
    """A claim file on ``name`` as a run writes it; ``age`` seconds since its last heartbeat."""
    path = claims_module.claim_path(str(out), name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as stream:
        json.dump({"name": name, "host": host or platform.node(), "pid": pid or os.getpid(), "run": "r" + name,
                   "time": time.time() - age}, stream)
    os.utime(path, (time.time() - age, time.time() - age))
    return path


def gone_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def states(status) -> dict:
    return {"done": sorted(m.name for m in status.done), "held": sorted(m.name for m in status.held),
            "failed": sorted(m.name for m in status.failed),
            "not started": sorted(m.name for m in status.not_started)}


def test_the_four_states_and_what_each_exit_code_means(batch_dir, capsys):
    src, out = batch_dir
    status = dataset_status(out)
    assert status.inputs is not None and len(status.inputs) == 6 and status.layout == "folders"
    assert states(status)["not started"] == NAMES and status.exit_code == 4   # nothing running: start a run

    finish(out, "a", src)
    finish(out, "b", src)
    fail(out, "c", src)
    claim(out, "d")                                # this process: a live run on this host
    claim(out, "e", pid=gone_pid())                # a run killed on this host: gone at once
    claim(out, "f", host="elsewhere", age=30)      # a run on another host, heartbeat 30 s ago: live
    status = dataset_status(out)
    assert states(status) == {"done": ["a", "b"], "held": ["d", "f"], "failed": ["c"], "not started": ["e"]}
    assert status.state == "in progress" and status.exit_code == 3
    gone = status.not_started[0]
    assert gone.detail["pid"] != os.getpid() and gone.path == str(src / "e.obj")
    assert main(["status", str(out)]) == 3
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == (f"{out} (folders): 6 inputs: 2 done, 2 held by live runs, 1 failed, 1 not started; "
                          "0 live runs")
    assert f"sources: {src}" in printed
    assert any(line.startswith(f"  d  {platform.node()} pid {os.getpid()}, claimed ") for line in printed)
    assert any(line.startswith("  f  elsewhere pid ") and "last heartbeat 30 s ago" in line for line in printed)
    assert f"  c  [check] {src / 'c'}.obj: no faces" in printed
    assert any(line.startswith(f"  e  {src / 'e.obj'}  (claim of a run that is gone: ") for line in printed)
    assert printed[-1] == "in progress: 0 live runs, 2 meshes held (exit code 3)"

    # the remote run's heartbeat stops: after stale_seconds its mesh is not started (the next run takes it)
    status = dataset_status(out, stale_seconds=20)
    assert states(status)["held"] == ["d"] and "f" in states(status)["not started"]
    for path in (out / claims_module.CLAIMS_FOLDER).iterdir():
        path.unlink()
    assert dataset_status(out).exit_code == 4
    for name in "def":
        finish(out, name, src)
    status = dataset_status(out)
    assert status.state == "failed" and status.exit_code == 1 and main(["status", str(out)]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == \
        "not complete: 1 failed (--retry-failed renders them again) (exit code 1)"
    finish(out, "c", src)   # rendered by a --retry-failed run: its old failure line no longer counts
    assert dataset_status(out).complete and main(["status", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "complete: every input is done (exit code 0)"


def test_a_live_run_holding_no_claim_yet_counts_as_in_progress(batch_dir):
    """A run that is starting (its Blender workers loading) holds no claim yet: status must not tell a
    waiting job that nobody works on DIR."""
    _, out = batch_dir
    run = claims_module.Claims(str(out))
    try:
        run.announce(part=[0, 2])
        status = dataset_status(out)
        assert status.held == [] and [r["pid"] for r in status.runs] == [os.getpid()]
        assert status.exit_code == 3
    finally:
        run.close()
    assert dataset_status(out).exit_code == 4 and dataset_status(out).runs == []
    record = out / claims_module.RUNS_FOLDER / "run-x.json"   # a killed run's record: ignored, then removed
    record.write_text(json.dumps({"host": platform.node(), "pid": gone_pid(), "run": "x", "started": 0}))
    assert dataset_status(out).runs == []
    claims_module.Claims(str(out)).announce()
    assert not record.exists()


def test_job_array_parts_count_together(tmp_path):
    src, out = recorded_dir(tmp_path, (0, 2))   # part 0 ran
    part0 = [n for n in NAMES if part_of(n, 2) == 0]
    assert 0 < len(part0) < len(NAMES)
    for name in part0:
        finish(out, name, src)
    status = dataset_status(out)   # part 1 never ran: its meshes are not started, DIR is not complete
    assert states(status)["done"] == part0 and len(status.not_started) == len(NAMES) - len(part0)
    assert status.parts == [(0, 2)] and status.exit_code == 4
    assert dataset_status(out, part=parse_part("0/2")).exit_code == 0   # a DIR of one part
    claims_module.record_inputs(str(out), claims_module.inputs_request([str(src)]), (1, 2))
    assert len(list((out / claims_module.RUNS_FOLDER).glob("inputs-*.json"))) == 2   # one per part
    for name in NAMES:
        if name not in part0:
            finish(out, name, src)
    assert dataset_status(out).exit_code == 0


def test_without_recorded_sources_status_asks_for_them(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.obj").write_text("v 0 0 0\n")
    out = tmp_path / "out"
    out.mkdir()
    claims_module.check_dataset_options(str(out), RenderOptions(views=2))   # a DIR of an older version
    finish(out, "a", src)
    status = dataset_status(out)
    assert status.inputs is None and status.exit_code == 4 and not status.complete
    assert main(["status", str(out)]) == 4
    assert "give them with --sources" in capsys.readouterr().out
    assert dataset_status(out, sources=[str(src)]).exit_code == 0
    assert main(["status", str(out), "--sources", str(src)]) == 0


def test_render_inputs_are_recorded_by_name_and_bad_folders_are_refused(tmp_path, capsys):
    from depth_views.batch.inputs import BatchInput

    out = tmp_path / "out"
    out.mkdir()
    claims_module.check_dataset_options(str(out), RenderOptions(views=2, formats=("webdataset",)))
    request = claims_module.inputs_request([BatchInput("/data/x/chair.obj", "chair")])
    claims_module.record_inputs(str(out), request, None)
    status = dataset_status(out)
    assert status.layout == "webdataset" and [(m.name, m.path) for m in status.not_started] == \
        [("chair", "/data/x/chair.obj")]
    with pytest.raises(DepthViewsError, match="not a batch output folder"):
        dataset_status(tmp_path)
    assert main(["status", str(tmp_path / "nope")]) == 2
    assert "no such folder" in capsys.readouterr().err
    moved = tmp_path / "moved"
    claims_module.record_inputs(str(out), claims_module.inputs_request([str(moved)]), None)
    with pytest.raises(DepthViewsError, match=f"records the source {moved}: no such .*--sources"):
        dataset_status(out)
