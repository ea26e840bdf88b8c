"""Several runs on one DIR (no Blender): per-mesh claims with heartbeats, the dataset's options, and
journal lines appended by more than one writer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from depth_views.batch import claims as claims_module, store
from depth_views.errors import DepthViewsError
from depth_views.options import RenderOptions


def test_a_claim_held_by_a_live_run_is_respected_and_a_dead_ones_is_taken_over(tmp_path):
    first = claims_module.Claims(str(tmp_path))
    second = claims_module.Claims(str(tmp_path))
    try:
        assert first.take("mesh") is None and first.take("mesh") is None
        owner = second.take("mesh")
        assert owner["pid"] == os.getpid() and owner["run"] == first.run
        first.release("mesh")
        assert second.take("mesh") is None
        # a claim left by a process that is gone (kill -9): taken over
        sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        path = first.path("other")
        with open(path, "w") as stream:
            json.dump({"name": "other", "host": first.host, "pid": sleeper.pid, "run": "x"}, stream)
        assert first.take("other")["pid"] == sleeper.pid
        sleeper.kill()
        sleeper.wait()
        assert first.take("other") is None
        # another host's claim: respected while its heartbeat is fresh, taken once stale
        with open(first.path("remote"), "w") as stream:
            json.dump({"name": "remote", "host": "elsewhere", "pid": 1, "run": "y"}, stream)
        assert first.take("remote")["host"] == "elsewhere"
        old = time.time() - claims_module.STALE_SECONDS - 5
        os.utime(first.path("remote"), (old, old))
        assert first.take("remote") is None
    finally:
        first.close()
        second.close()


def test_two_runs_with_other_options_on_one_folder_are_refused(tmp_path):
    claims_module.check_dataset_options(str(tmp_path), RenderOptions(views=3))
    claims_module.check_dataset_options(str(tmp_path), RenderOptions(views=3, device="gpu"))
    with pytest.raises(DepthViewsError, match="other options .*views: 3 here, 4 now"):
        claims_module.check_dataset_options(str(tmp_path), RenderOptions(views=4))
    # a folder made before an option got its present name: compared under the new name
    old = tmp_path / "old"
    old.mkdir()
    (old / claims_module.DATASET_FILE).write_text(json.dumps({"format": "depth_views.dataset", "options": {
        "views": 3, "opaque_depth": True, "pinhole": [30.0, 30.0, 15.5, 11.5]}}))
    claims_module.check_dataset_options(str(old), RenderOptions(views=3, intrinsics=(30.0, 30.0, 15.5, 11.5)))
    with pytest.raises(DepthViewsError, match="keep_transparency: False here, True now"):
        claims_module.check_dataset_options(str(old), RenderOptions(views=3, keep_transparency=True,
                                                                    intrinsics=(30.0, 30.0, 15.5, 11.5)))


def test_journal_appends_survive_a_torn_line_from_another_writer(tmp_path):
    path = str(tmp_path / "index.jsonl")
    with open(path, "w") as stream:
        stream.write('{"name": "a"}\n{"name": "b", "tor')
    journal = store.Journal(path)
    journal.append({"name": "c"})
    assert [r["name"] for r in store.read_jsonl(path)[0]] == ["a", "c"]
