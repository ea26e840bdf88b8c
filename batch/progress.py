"""Progress of a batch run: a tqdm bar on a terminal, plain log lines otherwise (pure Python)."""

from __future__ import annotations

import sys

from ..outputs.derived import empty_views_message
from .events import MeshFailed, MeshRendered, MeshSkipped, ViewRendered
from .run import BatchPlan, BatchSummary


class BatchProgress:
    """Feed it every event of :func:`~.run.batch_events`; it shows views/s and the ETA.

    ``bar``: True for a tqdm bar over views (with meshes done / failed), False for one line per
    mesh, None to choose by whether stderr is a terminal.  ``quiet`` prints errors only.
    """

    def __init__(self, *, bar: bool | None = None, quiet: bool = False, prog: str = "depth-views"):
        self.use_bar = sys.stderr.isatty() if bar is None else bar
        self.quiet, self.prog = quiet, prog
        self.bar = None
        self.todo = self.finished = self.failed = self.views_per_mesh = 0
        self.views_done: dict[str, int] = {}
        self.todo_names: set[str] = set()

    def plan_ready(self, plan: BatchPlan, views_per_mesh: int) -> None:
        self.todo, self.views_per_mesh = len(plan.todo), views_per_mesh
        self.todo_names = {item.name for item in plan.todo}
        skipped = len(plan.skipped)
        if not self.quiet and skipped:
            self._line(f"{self.prog}: {skipped} of {len(plan.inputs)} inputs already done "
                       f"({sum(s.reason == 'failed' for s in plan.skipped)} of them failed earlier), "
                       f"{self.todo} to render")
        if self.use_bar and not self.quiet and self.todo:
            from tqdm import tqdm

            self.bar = tqdm(total=self.todo * views_per_mesh, unit="view", dynamic_ncols=True,
                            smoothing=0.05, file=sys.stderr, desc="meshes 0/%d" % self.todo)

    def _line(self, text: str, error: bool = False) -> None:
        stream = sys.stderr if error else sys.stdout
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=stream, flush=True)

    def __call__(self, event) -> None:
        if isinstance(event, ViewRendered):
            self.views_done[event.item.name] = event.done
            if self.bar is not None:
                self.bar.update(1)
        elif isinstance(event, MeshRendered):
            self.finished += 1
            self.views_done.pop(event.item.name, None)
            if self.bar is not None:
                self._describe()
            elif not self.quiet:
                self._line(f"[{self.finished + self.failed}/{self.todo}] {event.item.path}: {event.views} views "
                           f"-> {event.folder} ({event.seconds:.1f} s)")
            if event.entry.get("empty_views"):
                self._line(f"{self.prog}: warning: "
                           f"{empty_views_message(event.item.path, event.entry['empty_views'], event.entry['views'])}",
                           error=True)
        elif isinstance(event, MeshFailed):
            self.failed += 1
            if self.bar is not None:
                unrendered = self.views_per_mesh - self.views_done.pop(event.item.name, 0)
                self.bar.total = max(self.bar.n, self.bar.total - max(0, unrendered))
                self._describe()
            self._line(f"{self.prog}: error: [{event.stage}] {event.error}", error=True)
        elif isinstance(event, MeshSkipped) and self.bar is not None and event.item.name in self.todo_names:
            # planned here, then claimed or finished by another run on the same DIR
            self.bar.total = max(self.bar.n, self.bar.total - self.views_per_mesh)

    def _describe(self) -> None:
        self.bar.set_description(f"meshes {self.finished + self.failed}/{self.todo}"
                                 + (f" ({self.failed} failed)" if self.failed else ""))

    def close(self, summary: BatchSummary, out_root: str, failures_file: str) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        text = (f"{self.prog}: batch of {summary.inputs} inputs into {out_root}: {summary.rendered} rendered, "
                f"{summary.skipped} already done, {summary.failed} failed; {summary.views} views in "
                f"{summary.seconds:.1f} s ({summary.views_per_second:.1f} views/s)")
        if summary.claimed:
            text += (f"; {summary.claimed} left to other live runs on this folder that hold them "
                     f"('{self.prog} status {out_root}' says when the folder is complete)")
        if summary.failed:
            text += f"; failures are listed in {failures_file}"
        print(text, flush=True)
