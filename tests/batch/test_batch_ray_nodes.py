"""Ray on two nodes of one machine (``ray.cluster_utils.Cluster``: a head and a second raylet); the
second node is killed while its actor is in the middle of a mesh.  Every (mesh, view) must still be
written exactly once, by the surviving node, and the run must end.

The second node's workers see the fault hook ``hang:*`` (set only while that node starts), so its actor
announces its mesh in a marker file and hangs there; the test then removes the node
(``remove_node(allow_graceful=False)`` kills its raylet, as a machine that disappears).  The first test
needs no Blender (a fake actor through :class:`RayPool`'s ``actor_class``); the second renders with
real Blender actors through ``depth-views batch --ray``.  Timings are printed (``-s``), never checked.
"""

from __future__ import annotations

import collections
import json
import os
import pickle
import shutil
import sys
import tarfile
import tempfile
import threading
import time

import pytest

ray = pytest.importorskip("ray", reason="the multi-node tests need Ray: pip install 'depth_views[ray]'")
from ray.cluster_utils import Cluster  # noqa: E402

from depth_views.batch import faults, ray_pool, store  # noqa: E402
from depth_views.batch.events import MeshFailed, MeshRendered, MeshStarted  # noqa: E402
from depth_views.batch.inputs import BatchInput  # noqa: E402
from depth_views.errors import DepthViewsError  # noqa: E402
from depth_views.options import RenderOptions  # noqa: E402
from depth_views.resolved import resolve  # noqa: E402

# Fast health checks: a lost node is declared dead after about 1.5 s instead of about 15 s.
HEALTH = {"health_check_period_ms": 500, "health_check_failure_threshold": 3,
          "health_check_initial_delay_ms": 0, "health_check_timeout_ms": 500}
NODE = {"num_cpus": 1, "num_gpus": 0, "object_store_memory": 80 << 20}
DEADLINE = 120.0


class TwoNodes:
    """A Ray head (1 CPU) this process is connected to, and a second node (1 CPU) added per test."""

    def __init__(self, cluster: Cluster, temp: str):
        self.cluster, self.temp, self.second = cluster, temp, None

    def add_second_node(self, marks: str, faults_rule: str = "hang:*"):
        """Start node 2; only its workers see ``faults_rule`` (and the marker folder)."""
        saved = {k: os.environ.get(k) for k in (faults.FAULT_ENV, faults.FAULT_MARKS_ENV)}
        os.environ[faults.FAULT_ENV], os.environ[faults.FAULT_MARKS_ENV] = faults_rule, marks
        try:
            self.second = self.cluster.add_node(**NODE, resources={"node2": 1}, temp_dir=self.temp)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        self.cluster.wait_for_nodes()
        deadline = time.monotonic() + DEADLINE
        while ray.cluster_resources().get("CPU", 0) < 2:
            assert time.monotonic() < deadline, "node 2 never joined"
            time.sleep(0.1)

    def kill_second_node(self) -> None:
        """Kill node 2's raylet (no draining): to the cluster, a machine that is gone."""
        self.cluster.remove_node(self.second, allow_graceful=False)
        self.second = None


@pytest.fixture(scope="module")
def two_nodes():
    started = time.perf_counter()
    temp = tempfile.mkdtemp(prefix="dvray-", dir="/tmp")   # short: Ray's socket paths live in it
    with pytest.MonkeyPatch.context() as patch:
        # Ray 2.5x authenticates with a token unless RAY_AUTH_MODE=disabled, and this process keeps the mode
        # it had at its first Ray call: a local ray.init (test_batch_ray.py) switches it to "token", with
        # the token in ~/.ray/auth_token, and leaves RAY_AUTH_MODE=token in the environment.  The cluster
        # started here must use the same mode (and so the same token); without Ray before it, no token.
        patch.setenv("RAY_AUTH_MODE", os.environ.get("RAY_AUTH_MODE") or "disabled")
        patch.setenv("RAY_USAGE_STATS_ENABLED", "0")
        patch.setenv("RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S", "0")
        for key in (faults.FAULT_ENV, faults.FAULT_MARKS_ENV):
            patch.delenv(key, raising=False)
        if ray.is_initialized():
            ray.shutdown()
        cluster = Cluster(initialize_head=True, connect=False, head_node_args={
            **NODE, "resources": {"head": 1}, "include_dashboard": False, "_system_config": HEALTH,
            "temp_dir": temp})
        try:
            ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
            print(f"\n[ray] head up and connected in {time.perf_counter() - started:.1f} s")
            yield TwoNodes(cluster, temp)
        finally:
            ray.shutdown()   # first: the cluster will not stop its head while a driver is connected
            cluster.shutdown()
            shutil.rmtree(temp, ignore_errors=True)


def wait_for_mark(marks: str, prefix: str) -> str:
    deadline = time.monotonic() + DEADLINE
    while True:
        found = [name for name in os.listdir(marks) if name.startswith(prefix)]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no {prefix}* marker within {DEADLINE:g} s"
        time.sleep(0.05)


class FakeActor:
    """A Ray actor without Blender, with :class:`~depth_views.batch.ray_pool.BlenderActor`'s interface.

    It writes a mesh's folder into its attempt's ``stage`` like :func:`render_one`: one file per view,
    then cameras.json; between the two it runs the workers' fault hook, so on node 2 it leaves a half
    folder behind and hangs."""

    def __init__(self, setup_pickle: bytes, threads: int):
        self.views = pickle.loads(setup_pickle).n_views

    def render(self, path: str, name: str, stage: str) -> dict:
        from depth_views.batch import faults as hooks

        folder = os.path.join(stage, *name.split("/"))
        os.makedirs(os.path.join(folder, "depth"))
        for index in range(self.views):
            with open(os.path.join(folder, "depth", f"{index:04d}.txt"), "w") as stream:
                stream.write(f"{name} {index}\n")
        hooks.inject_fault(path)
        node = ray.get_runtime_context().get_node_id()
        with open(os.path.join(folder, "cameras.json"), "w") as stream:
            json.dump({"views": [{"index": i} for i in range(self.views)], "node": node}, stream)
        return {"event": "done", "folder": folder, "views": self.views, "seconds": 0.0, "rss": 0}


def test_a_lost_node_is_survived_without_blender(two_nodes, tmp_path):
    """The pool logic alone (no bpy): the mesh node 2 was on is rendered again on the head, once; no
    replacement actor is waited for (there is no room for one); node 2's half folder is gone."""
    ray.cloudpickle.register_pickle_by_value(sys.modules[FakeActor.__module__])
    marks, out = tmp_path / "marks", tmp_path / "out"
    marks.mkdir()
    out.mkdir()
    two_nodes.add_second_node(str(marks))
    items = [BatchInput(f"/data/mesh{i}.obj", f"set/mesh{i}") for i in range(6)]
    setup = resolve(RenderOptions(views=3))
    pool = ray_pool.RayPool(setup, str(out), actor_class=FakeActor)   # 2 actors: one per node's CPU
    events, times = [], {}

    def remove_when_hung():
        hung = wait_for_mark(str(marks), "hang-")
        times["killed"] = time.monotonic()
        two_nodes.kill_second_node()
        times["hung"] = hung

    killer = threading.Thread(target=remove_when_hung, daemon=True)
    killer.start()
    started = time.monotonic()

    def drive():
        for event in pool.run(items):
            events.append((time.monotonic(), event))

    runner = threading.Thread(target=drive, daemon=True)
    runner.start()
    runner.join(DEADLINE)
    assert not runner.is_alive(), f"the run hangs after losing node 2: {[type(e).__name__ for _, e in events]}"
    killer.join(5)
    lost = times["hung"][len("hang-"):-len(".obj")]
    rendered = collections.Counter(e.item.name for _, e in events if isinstance(e, MeshRendered))
    assert rendered == {item.name: 1 for item in items}
    assert not [e for _, e in events if isinstance(e, MeshFailed)]
    starts = [t for t, e in events if isinstance(e, MeshStarted) and e.item.name == f"set/{lost}"]
    assert len(starts) == 2   # on node 2, then again on the head
    print(f"\n[ray] fake actors: node 2 killed {times['killed'] - started:.1f} s into the run; its mesh "
          f"started again {starts[1] - times['killed']:.2f} s later; run done {events[-1][0] - times['killed']:.2f} s "
          "after the kill")
    head = ray.get_runtime_context().get_node_id()   # the driver's node: the head
    for item in items:   # each folder is whole, from the head, and in place
        folder = out / item.name
        assert json.loads((folder / "cameras.json").read_text())["node"] == head
        assert sorted(os.listdir(folder / "depth")) == ["0000.txt", "0001.txt", "0002.txt"]
    assert not (out / store.PARTIAL_FOLDER).exists() or not os.listdir(out / store.PARTIAL_FOLDER)


def test_a_result_is_moved_into_place_once(tmp_path):
    """Two attempts of one mesh (a lost actor's and its retry's) each have their own folder; the
    second one to be moved into place is refused, and the first stays as it was."""
    out = tmp_path / "out"
    pool = ray_pool.RayPool(resolve(RenderOptions(views=2)), str(out))
    results = []
    for attempt in ("first", "second"):
        folder = out / store.PARTIAL_FOLDER / f"ray-host-1-{attempt}" / "set" / "mesh"
        (folder / "depth").mkdir(parents=True)
        (folder / "depth" / "0000.txt").write_text(attempt)
        (folder / "cameras.json").write_text(json.dumps({"views": [{"index": 0}], "by": attempt}))
        results.append({"event": "done", "folder": str(folder), "views": 1})
    item = BatchInput("/data/mesh.obj", "set/mesh")
    final = pool._publish(results[0], item)
    assert final == str(out / "set" / "mesh")
    with pytest.raises(DepthViewsError, match="already holds a finished render"):
        pool._publish(results[1], item)
    assert json.loads((out / "set" / "mesh" / "cameras.json").read_text())["by"] == "first"
    assert (out / "set" / "mesh" / "depth" / "0000.txt").read_text() == "first"


def test_attempt_folders_of_gone_batch_processes_are_swept(tmp_path):
    """An orphan actor may write into its attempt's folder after the batch process removed it; the
    next Ray run removes such folders once their batch process is gone, never a live one's."""
    import subprocess

    partial = tmp_path / store.PARTIAL_FOLDER
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    from depth_views.outputs.ownership import Owner

    live = Owner.this_run().temporary_name(ray_pool.STAGE_PREFIX, "")
    dead = Owner(Owner.this_run().host, gone.pid).temporary_name(ray_pool.STAGE_PREFIX, "")
    for name in (live, dead, "0123456789abcdef01234567"):   # the last: a local worker's partial folder
        (partial / name / "x").mkdir(parents=True)
    assert ray_pool.sweep_stale_stages(str(tmp_path)) == 1
    assert sorted(os.listdir(partial)) == sorted([live, "0123456789abcdef01234567"])


def shard_samples(out) -> list[tuple[str, int]]:
    """(mesh name, view index) of every sample of every finished shard, read with tarfile."""
    from depth_views.outputs import shards

    found = []
    for path in shards.finished_shards(str(out)):
        with tarfile.open(path) as tar:
            for member in tar.getmembers():
                key, extension = shards.member_key(member.name)
                if extension == "depth.npz":
                    found.append(shards.split_key(key))
    return found


@pytest.mark.parametrize("layout", ["webdataset", "folders"])
def test_a_lost_node_is_survived_with_blender(two_nodes, four_meshes, tmp_path, capfd, layout):
    """``depth-views batch --ray`` with real Blender actors: node 2 is killed while its actor is in the
    middle of a mesh; exit 0, every (mesh, view) exactly once (shards: tarfile, the webdataset library
    and our reader; folders: each complete, and our reader), no failure, nothing partial, and status
    says complete."""
    pytest.importorskip("bpy")
    from meshes import box_obj

    from depth_views.batch import dataset_status, read_failures, read_index
    from depth_views.cli import main
    from depth_views.datasets import DepthViews

    for i in range(2):
        box_obj(four_meshes / "more" / f"box{i}.obj", size=(1.0 + i, 0.5, 0.8), offset=(i, 0, 0))
    names = ["asym", "boxes/flat", "boxes/tall", "more/box0", "more/box1", "plane"]
    marks, out = tmp_path / "marks", tmp_path / "out"
    marks.mkdir()
    two_nodes.add_second_node(str(marks))
    views = 3
    formats = ["--formats", "webdataset", "--shard-views", "6"] if layout == "webdataset" else []
    result, times = {}, {}
    started = time.monotonic()

    def run():
        result["code"] = main(["batch", str(four_meshes), "--out", str(out), "--views", str(views),
                               "--resolution", "32", "24", *formats, "--ray", two_nodes.cluster.address,
                               "--progress", "lines"])

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    times["hung"] = wait_for_mark(str(marks), "hang-")
    times["killed"] = time.monotonic()
    two_nodes.kill_second_node()
    runner.join(DEADLINE)
    assert not runner.is_alive(), "the run hangs after losing node 2"
    finished = time.monotonic()
    printed = capfd.readouterr()
    assert result["code"] == 0, printed.out + printed.err
    assert "error" not in printed.err, printed.err
    assert f"{len(names)} rendered, 0 already done, 0 failed" in printed.out
    print(f"\n[ray] Blender actors ({layout}): node 2 hung on {times['hung'][len('hang-'):]} "
          f"{times['killed'] - started:.1f} s into the run; run done {finished - times['killed']:.1f} s after "
          f"the kill, {finished - started:.1f} s in all")

    expected = {(name, index) for name in names for index in range(views)}
    if layout == "webdataset":
        assert sorted(shard_samples(out)) == sorted(expected)   # every (mesh, view) exactly once
        import webdataset

        with_wds = [sample["__key__"] for path in sorted((out / "shards").glob("shard-*.tar"))
                    for sample in webdataset.WebDataset(str(path), shardshuffle=False)]
        assert len(with_wds) == len(set(with_wds)) == len(expected)
        ours = collections.Counter((sample["name"], sample["view_index"]) for sample in DepthViews(str(out)))
        assert not [n for n in os.listdir(out / "shards") if n.startswith(".")]
    else:
        for name in names:   # each folder complete: its cameras.json lists every view, each file there
            cameras = json.loads((out / name / "cameras.json").read_text())
            assert [view["index"] for view in cameras["views"]] == list(range(views))
            assert all((out / name / view["files"]["depth"]).is_file() for view in cameras["views"])
        ours = collections.Counter((os.path.relpath(sample["folder"], out), sample["view_index"])
                                   for sample in DepthViews(str(out)))
    assert ours == {key: 1 for key in expected}
    assert sorted(e["name"] for e in read_index(str(out))) == names
    assert read_failures(str(out)) == []
    assert not (out / store.PARTIAL_FOLDER).exists() and not (out / ".claims").exists()
    assert dataset_status(out).exit_code == 0
