"""Where a batch output folder stands: done, held by live runs, failed, not started (pure Python).

:func:`dataset_status` reads what ``DIR`` records and writes nothing: the inputs it is meant to hold
(the sources and parts every run recorded in ``DIR/.runs``; see :mod:`.claims`), the finished meshes
(folders with their cameras.json, or meshes in finished shards), ``failures*.jsonl``, the claims in
``DIR/.claims`` and the runs alive now.  Several parts of a job array that share DIR count together:
a run of ``--part K/N`` stands for all N parts of its sources.

A mesh is in exactly one of four states, first match wins:

- **done**: its folder is complete, or it is in a finished shard;
- **held**: a live run holds its claim (it is rendering it, or it is in that run's open shard);
- **failed**: it is in a failures journal (the error line says why);
- **not started**: none of these; a claim left by a run that is gone (``claim``) is taken over by
  the next run.

Whether a claim's run is alive follows :mod:`depth_views.outputs.ownership`: on the same host, its
process; on another host, a heartbeat within ``stale_seconds``.  So a run killed on another machine
keeps its meshes held until its claims go stale.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field

from ..errors import DepthViewsError
from ..outputs.ownership import STALE_SECONDS
from . import shard_store, store
from .claims import DATASET_FILE, read_claims, read_input_records, read_runs
from .inputs import BatchInput, collect_inputs, select_part

EXIT_COMPLETE = 0      # every input is done, none failed
EXIT_FAILED = 1        # nothing is left to do but some inputs failed (--retry-failed renders them again)
EXIT_IN_PROGRESS = 3   # live runs are working on DIR (they hold meshes or are starting): wait, ask again
EXIT_INCOMPLETE = 4    # inputs are not done and no live run is working on DIR: run the batch again
EXIT_CODES = {"complete": EXIT_COMPLETE, "failed": EXIT_FAILED, "in progress": EXIT_IN_PROGRESS,
              "incomplete": EXIT_INCOMPLETE}


@dataclass
class MeshStatus:
    """One mesh: ``name`` (its output name), ``path`` (the input file, "" when unknown), ``state``
    (done, held, failed, not started) and ``detail``: the index record (done), the claim record with
    ``host``, ``pid``, ``time`` and ``mtime`` (held; a not-started mesh's stale claim), or the
    failure record with ``stage`` and ``error`` (failed)."""

    name: str
    path: str
    state: str
    detail: dict = field(default_factory=dict)


@dataclass
class DatasetStatus:
    """What :func:`dataset_status` found; :attr:`state` and :attr:`exit_code` sum it up."""

    out_root: str
    layout: str                                      # "folders" or "webdataset"
    inputs: list[BatchInput] | None                  # None: DIR records no inputs and none were given
    sources: list[str] = field(default_factory=list)
    parts: list[tuple[int, int]] = field(default_factory=list)   # the --part values runs recorded
    done: list[MeshStatus] = field(default_factory=list)
    held: list[MeshStatus] = field(default_factory=list)
    failed: list[MeshStatus] = field(default_factory=list)
    not_started: list[MeshStatus] = field(default_factory=list)
    runs: list[dict] = field(default_factory=list)   # the live runs' records (host, pid, part, started)
    checked_at: float = 0.0

    @property
    def complete(self) -> bool:
        """Every input is done and none failed."""
        return self.inputs is not None and not (self.held or self.failed or self.not_started)

    @property
    def state(self) -> str:
        """``in progress`` (live runs hold meshes, or are running while the folder is not complete),
        ``incomplete`` (inputs are left and no run is working on them, or the inputs are unknown),
        ``failed`` (only failures are left) or ``complete``."""
        if self.held or (self.runs and not self.complete):
            return "in progress"
        if self.not_started or self.inputs is None:
            return "incomplete"
        return "failed" if self.failed else "complete"

    @property
    def exit_code(self) -> int:
        """0 complete, 1 failed, 3 in progress, 4 incomplete (see the module's ``EXIT_*``)."""
        return EXIT_CODES[self.state]


def _layout(out_root: str) -> str:
    path = os.path.join(out_root, DATASET_FILE)
    if not os.path.isdir(out_root):
        raise DepthViewsError(f"{out_root}: no such folder")
    try:
        with open(path, encoding="utf-8") as stream:
            options = json.load(stream).get("options", {})
    except FileNotFoundError:
        raise DepthViewsError(f"{out_root}: not a batch output folder (no {DATASET_FILE}; "
                              "'depth-views batch' writes one)") from None
    except (OSError, ValueError, AttributeError) as error:
        raise DepthViewsError(f"{path}: unreadable ({error})") from None
    return "webdataset" if "webdataset" in (options.get("formats") or ()) else "folders"


def recorded_inputs(out_root: str, records: list[dict]) -> tuple[list[BatchInput], list[str], list]:
    """The inputs ``records`` (:func:`~.claims.read_input_records`) ask for, their sources and parts.

    A request made with ``--part K/N`` counts with all N parts: the parts of a job array share DIR.
    Raises :class:`DepthViewsError` naming a recorded source that cannot be read here.
    """
    inputs: dict[str, BatchInput] = {}
    sources: list[str] = []
    parts: list[tuple[int, int]] = []
    seen = set()
    for record in records:
        part = record.get("part")
        if isinstance(part, list) and len(part) == 2 and tuple(part) not in parts:
            parts.append((int(part[0]), int(part[1])))
        if "inputs" in record:
            found = [BatchInput(str(p), str(n)) for p, n in record["inputs"]]
        else:
            key = tuple(record["sources"])
            if key in seen:
                continue
            seen.add(key)
            try:
                found = collect_inputs(list(key), exclude=out_root)
            except DepthViewsError as error:
                raise DepthViewsError(f"{out_root} records the source {error}; where the sources are "
                                      "elsewhere, give them: depth-views status DIR --sources SOURCE ...") from None
            sources += [s for s in key if s not in sources]
        for item in found:
            inputs.setdefault(item.name, item)
    return list(inputs.values()), sources, parts


def dataset_status(out, *, sources=None, part: tuple[int, int] | None = None,
                   stale_seconds: float = STALE_SECONDS) -> DatasetStatus:
    """Where batch output folder ``out`` stands (see the module); reads only, writes nothing.

    ``sources``: the SOURCEs (folders, globs, list files, meshes) DIR is meant to hold, instead of the
    ones its runs recorded (a DIR made before runs recorded them, or sources that moved); ``part``:
    only part ``(k, n)`` of the inputs (a DIR that holds one part of a job array).  Raises
    :class:`DepthViewsError` when ``out`` is not a batch output folder, a finished shard is corrupt
    or a source cannot be read.
    """
    out_root = os.path.abspath(os.fspath(out))
    layout = _layout(out_root)
    if sources is not None:
        sources = [sources] if isinstance(sources, (str, os.PathLike)) else list(sources)
        inputs = collect_inputs([os.fspath(s) for s in sources], exclude=out_root)
        parts: list = []
        sources = [os.path.abspath(os.fspath(s)) for s in sources]
    else:
        records = read_input_records(out_root)
        inputs, sources, parts = recorded_inputs(out_root, records) if records else (None, [], [])
    if inputs is not None and part is not None:
        inputs = select_part(inputs, part)
    status = DatasetStatus(out_root, layout, inputs, sources, parts, checked_at=time.time())
    paths = {item.name: item.path for item in inputs or []}

    if layout == "webdataset":
        finished = shard_store.done_meshes(out_root)
    else:
        finished = {e["name"]: e for e in store.read_index(out_root) if store.is_complete(out_root, e["name"])}
        for name in paths:
            if name not in finished and store.is_complete(out_root, name):
                finished[name] = {"name": name, "path": paths[name], "folder": name}
    failures = {r["name"]: r for r in store.read_failures(out_root, finished if layout == "webdataset" else None)}
    claims: dict[str, dict] = {}
    for claim in read_claims(out_root, stale_seconds):
        if claim["name"] not in claims or not claim["gone"]:
            claims[claim["name"]] = claim
    status.runs = [r for r in read_runs(out_root, stale_seconds) if not r["gone"]]

    names = list(paths) + [n for n in list(finished) + list(claims) + list(failures) if n not in paths]
    if inputs is not None and part is not None:   # only this part's meshes
        names = [n for n in names if n in paths]
    for name in dict.fromkeys(names):
        claim = claims.get(name)
        if name in finished:
            record = finished[name]
            status.done.append(MeshStatus(name, paths.get(name, record.get("path", "")), "done", record))
        elif claim is not None and not claim["gone"]:
            status.held.append(MeshStatus(name, paths.get(name, ""), "held", claim))
        elif name in failures:
            record = failures[name]
            status.failed.append(MeshStatus(name, paths.get(name, record.get("path", "")), "failed", record))
        elif name in paths:
            status.not_started.append(MeshStatus(name, paths[name], "not started", claim or {}))
    return status


def _age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _part(part) -> str:
    return f", part {part[0]}/{part[1]}" if isinstance(part, list) and len(part) == 2 else ""


def status_lines(status: DatasetStatus, *, limit: int | None = 20) -> list[str]:
    """The report ``depth-views status`` prints: counts, then each list (at most ``limit`` lines per
    list; None: all), then the live runs and a last line with the verdict."""
    now = status.checked_at
    total = "an unknown number of" if status.inputs is None else str(len(status.inputs))
    lines = [f"{status.out_root} ({status.layout}): {total} inputs: {len(status.done)} done, "
             f"{len(status.held)} held by live runs, {len(status.failed)} failed, "
             f"{'?' if status.inputs is None else len(status.not_started)} not started; "
             f"{len(status.runs)} live run{'' if len(status.runs) == 1 else 's'}"]
    if status.sources:
        parts = sorted({n for _, n in status.parts if n > 1})
        lines.append("sources: " + " ".join(status.sources)
                     + (f" (parts of {', '.join(map(str, parts))}: all counted)" if parts else ""))

    def section(title: str, meshes: list[MeshStatus], describe) -> None:
        if not meshes:
            return
        lines.append(f"{title} ({len(meshes)}):")
        shown = meshes if limit is None else meshes[:limit]
        lines.extend(f"  {mesh.name}  {describe(mesh)}" for mesh in shown)
        if len(shown) < len(meshes):
            lines.append(f"  ... and {len(meshes) - len(shown)} more (--all lists every one)")

    def holder(claim: dict) -> str:
        return (f"{claim.get('host', '?')} pid {claim.get('pid', '?')}, claimed "
                f"{_age(now - float(claim.get('time') or claim['mtime']))} ago, last heartbeat "
                f"{_age(now - claim['mtime'])} ago")

    def waiting(mesh: MeshStatus) -> str:
        if mesh.detail:
            return f"{mesh.path}  (claim of a run that is gone: {holder(mesh.detail)}; the next run takes it over)"
        return mesh.path

    section("done", status.done, lambda m: m.detail.get("shard") or m.path)
    section("held by live runs", status.held, lambda m: holder(m.detail))
    section("failed", status.failed, lambda m: f"[{m.detail.get('stage', '?')}] {m.detail.get('error', '')}")
    section("not started", status.not_started, waiting)
    if status.runs:
        lines.append(f"live runs ({len(status.runs)}):")
        lines.extend(f"  {r.get('host', '?')} pid {r.get('pid', '?')}{_part(r.get('part'))}, started "
                     f"{_age(now - float(r.get('started') or r['mtime']))} ago" for r in status.runs)
    verdict = {
        "complete": "complete: every input is done",
        "failed": f"not complete: {len(status.failed)} failed (--retry-failed renders them again)",
        "in progress": f"in progress: {len(status.runs)} live runs, {len(status.held)} meshes held",
        "incomplete": (f"not complete, and no run is working on it: {len(status.not_started)} not started "
                       "(run the batch again to finish)" if status.inputs is not None else
                       "cannot tell whether it is complete: DIR records no inputs (made before runs recorded "
                       "them); give them with --sources"),
    }[status.state]
    lines.append(f"{verdict} (exit code {status.exit_code})")
    return lines
