"""What every benchmark worker shares: the job file it reads and the result file it writes.

A worker is started as ``python WORKER JOB.json RESULT.json``.  The job holds the mesh paths and,
per mesh, the cameras (our ``K`` and OpenCV ``world_to_camera`` / Blender ``camera_to_world``
poses) and clip range.  The result holds wall-clock timestamps (``time.time()``, comparable with
the parent's launch time) taken after start-up and after every view.  No depth_views import here:
the reference workers run in Pythons that do not have it.
"""

from __future__ import annotations

import json
import resource
import sys
import time


def read_job() -> dict:
    with open(sys.argv[1], encoding="utf-8") as stream:
        return json.load(stream)


def write_result(result: dict) -> None:
    result["worker_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(sys.argv[2], "w", encoding="utf-8") as stream:
        json.dump(result, stream)


class Clock:
    """Timestamps of a worker's milestones: ``mark('imported')``, ``view()`` after each view."""

    def __init__(self):
        self.marks: dict[str, float] = {}
        self.views: list[float] = []

    def mark(self, name: str) -> None:
        self.marks[name] = time.time()

    def view(self) -> None:
        self.views.append(time.time())

    def as_dict(self) -> dict:
        return {"marks": self.marks, "view_times": self.views}
