"""Fault injection for the batch's tests (pure Python; never set in normal use).

``DEPTH_VIEWS_TEST_FAULTS`` holds comma-separated rules ``KIND:NAME``: on the input whose file name
is NAME (``*``: every input) a worker or Ray actor, at the start of the import stage,

- ``segfault``: crashes (a real SIGSEGV),
- ``abort``: aborts (SIGABRT),
- ``hang``: never returns,
- ``pause``: waits until the file ``$DEPTH_VIEWS_TEST_FAULT_MARKS/release-NAME`` exists, then goes on.

With ``DEPTH_VIEWS_TEST_FAULT_MARKS`` set to a folder, each fault first creates the empty file
``KIND-NAME`` there, so a test knows that the worker is in the middle of that input (e.g. before it
kills the run or the Ray node).
"""

from __future__ import annotations

import ctypes
import os
import time

FAULT_ENV = "DEPTH_VIEWS_TEST_FAULTS"
FAULT_MARKS_ENV = "DEPTH_VIEWS_TEST_FAULT_MARKS"
KINDS = ("segfault", "abort", "hang", "pause")


def inject_fault(path: str) -> None:
    """Apply the rules of ``DEPTH_VIEWS_TEST_FAULTS`` that name input ``path`` (see the module)."""
    name = os.path.basename(path)
    marks = os.environ.get(FAULT_MARKS_ENV)
    for rule in filter(None, os.environ.get(FAULT_ENV, "").split(",")):
        kind, _, target = rule.partition(":")
        if kind not in KINDS or target not in (name, "*"):
            continue
        if marks:
            with open(os.path.join(marks, f"{kind}-{name}"), "w"):
                pass
        if kind == "segfault":
            ctypes.string_at(0)
        elif kind == "abort":
            os.abort()
        elif kind == "hang":
            while True:
                time.sleep(60)
        elif kind == "pause":
            release = os.path.join(marks or ".", f"release-{name}")
            while not os.path.exists(release):
                time.sleep(0.05)
