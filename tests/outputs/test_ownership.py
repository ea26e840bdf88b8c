"""Who owns a temporary shard or a claim, and when that owner is gone (outputs/ownership.py), without
Blender: file names and claim records as this and older versions write them, and the clean-up of
temporary shards a run leaves behind (batch/shard_store.remove_orphan_shards)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time

import pytest

from shard_samples import fake_mesh

from depth_views.batch import claims as claims_module, shard_store
from depth_views.outputs import shards
from depth_views.outputs.ownership import (STALE_SECONDS, Heartbeat, Owner, claim_owner, pid_alive,
                                           temporary_owner)

HOST = platform.node()


@pytest.fixture
def dead_pid():
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.fixture
def live_pid():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process.pid
    process.kill()
    process.wait()


def temporary_shard(out, host: str, pid: int, age: float = 0.0) -> str:
    """A half-written temporary shard named as the ShardWriter of 45016a8 named it, ``age`` s old."""
    folder = out / shards.SHARDS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".tmp-{host}-{pid}-0123abcd.tar"
    path.write_bytes(b"\0" * 512)
    then = time.time() - age
    os.utime(path, (then, then))
    return str(path)


def test_names_and_claim_records_of_this_and_older_versions_are_read():
    owner = Owner.this_run()
    assert (owner.host, owner.pid, len(owner.run)) == (HOST, os.getpid(), 32)
    name = owner.temporary_name(".tmp-", ".tar")
    assert name.startswith(f".tmp-{HOST}-{os.getpid()}-") and len(name) == len(f".tmp-{HOST}-{os.getpid()}-") + 12
    assert temporary_owner(name, ".tmp-", ".tar") == Owner(HOST, os.getpid())
    # host names with dashes, as the old rsplit read them
    assert temporary_owner(".tmp-node-07-a-4242-deadbeef.tar", ".tmp-", ".tar") == Owner("node-07-a", 4242)
    for other in (".tmp-.tar", ".tmp-host.tar", ".tmp-host-x-deadbeef.tar", "shard-000001.tar", ".tmp-a-1-b.tmp"):
        assert temporary_owner(other, ".tmp-", ".tar") is None, other
    # a claim file as 45016a8 wrote it
    record = {"name": "mesh", "host": "elsewhere", "pid": 17, "run": "ab" * 16, "time": 1.5e9}
    assert claim_owner(record) == Owner("elsewhere", 17, "ab" * 16)
    assert set(owner.claim_record("mesh")) == set(record) and owner.claim_record("mesh")["run"] == owner.run
    assert claim_owner(json.loads(json.dumps(owner.claim_record("m")))) == owner
    assert claim_owner(["not", "a", "record"]) is None and claim_owner({"pid": "x"}) is None


def test_gone_on_this_host_is_a_dead_process_and_elsewhere_a_stale_file(dead_pid, live_pid):
    now = time.time()
    assert pid_alive(os.getpid()) and pid_alive(live_pid) and not pid_alive(dead_pid)
    assert not pid_alive(0) and not pid_alive(-1)
    assert Owner(HOST, dead_pid).gone(now) and not Owner(HOST, live_pid).gone(now - 10 * STALE_SECONDS)
    assert not Owner("elsewhere", dead_pid).gone(now - STALE_SECONDS + 5)
    assert Owner("elsewhere", os.getpid()).gone(now - STALE_SECONDS - 5)
    assert not Owner("elsewhere", 1).gone(now - 50, stale_seconds=60) and Owner("elsewhere", 1).gone(now - 70, 60)


def test_orphan_shards_dead_removed_live_kept_other_hosts_by_age(tmp_path, dead_pid, live_pid):
    dead = temporary_shard(tmp_path, HOST, dead_pid)
    live = temporary_shard(tmp_path, HOST, live_pid, age=10 * STALE_SECONDS)   # old, but its run lives
    fresh = temporary_shard(tmp_path, "other-host-1", dead_pid, age=STALE_SECONDS - 60)
    stale = temporary_shard(tmp_path, "other-host-2", live_pid, age=STALE_SECONDS + 60)
    foreign = tmp_path / "shards" / ".tmp-not-an-owner.tar"
    foreign.write_bytes(b"")
    assert shard_store.remove_orphan_shards(str(tmp_path)) == 2
    assert sorted(os.listdir(tmp_path / "shards")) == sorted(os.path.basename(p) for p in (live, fresh, str(foreign)))
    assert not os.path.exists(dead) and not os.path.exists(stale)


def test_an_open_shard_is_kept_fresh_by_its_runs_heartbeat(tmp_path):
    """Another host's run removes a temporary shard untouched for the stale time, so the owner's
    heartbeat touches it while it is open, and forgets it once it has its final name."""
    heartbeat = Heartbeat(seconds=3600)   # touched by hand below, not by the clock
    writer = shards.ShardWriter(str(tmp_path), owner=Owner("far-away", 99, "r"), heartbeat=heartbeat)
    try:
        writer.add({"name": "slow"}, fake_mesh("slow", 2))
        temporary = writer._temporary
        assert os.path.basename(temporary).startswith(".tmp-far-away-99-") and heartbeat.paths == {temporary}
        old = time.time() - STALE_SECONDS - 60   # a long render since the last write
        os.utime(temporary, (old, old))
        heartbeat.touch()
        assert time.time() - os.path.getmtime(temporary) < STALE_SECONDS
        assert shard_store.remove_orphan_shards(str(tmp_path)) == 0
        writer.close()
        assert heartbeat.paths == set() and [os.path.basename(p) for p in writer.finished] == ["shard-000000.tar"]
    finally:
        heartbeat.close()


def test_claims_keep_their_records_format_and_heartbeat(tmp_path, dead_pid):
    claims = claims_module.Claims(str(tmp_path), heartbeat_seconds=3600)
    try:
        assert claims.take("mesh") is None
        record = json.load(open(claims.path("mesh")))
        assert {k: record[k] for k in ("name", "host", "pid", "run")} == \
            {"name": "mesh", "host": HOST, "pid": os.getpid(), "run": claims.run}
        assert claims.heartbeat.paths == {claims.path("mesh")}
        # a claim of the old format whose process is gone is taken over, one of a live run is not
        with open(claims.path("old"), "w") as stream:
            json.dump({"name": "old", "host": HOST, "pid": dead_pid, "run": "x", "time": 0}, stream)
        assert claims.take("old") is None and json.load(open(claims.path("old")))["run"] == claims.run
        with open(claims.path("list"), "w") as stream:
            json.dump([1, 2], stream)   # not a record: unreadable, removed once older than a heartbeat
        old = time.time() - 7200
        os.utime(claims.path("list"), (old, old))
        assert claims.take("list") is None
        claims.release("mesh")
        assert claims.heartbeat.paths == {claims.path("old"), claims.path("list")}
    finally:
        claims.close()
    assert not os.path.exists(tmp_path / claims_module.CLAIMS_FOLDER)
