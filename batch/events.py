"""What a batch run reports, mesh by mesh and view by view (pure Python)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .inputs import BatchInput


@dataclass
class MeshStarted:
    item: BatchInput
    worker: int


@dataclass
class ViewRendered:
    item: BatchInput
    done: int
    total: int


@dataclass
class MeshRendered:
    """``item`` is finished in ``folder``: ``views`` views in ``seconds`` s; ``rss`` is the worker's
    resident memory in bytes after it cleared the scene (0 where unknown)."""

    item: BatchInput
    folder: str
    views: int
    seconds: float
    rss: int = 0
    worker: int = 0
    entry: dict = field(default_factory=dict)
    members: list | None = None   # --formats webdataset: the mesh's tar members (name, bytes)


@dataclass
class MeshFailed:
    """``stage`` is import, check, render, write, timeout or crash; ``error`` is one line."""

    item: BatchInput
    stage: str
    error: str


@dataclass
class MeshSkipped:
    """Not rendered in this run: ``reason`` is ``complete`` (finished earlier), ``failed`` (failed
    earlier and listed in failures.jsonl; ``--retry-failed`` renders it again) or ``claimed`` (another
    live run on the same DIR is rendering it)."""

    item: BatchInput
    reason: str
