"""Batch rendering of many meshes: resumable, parallel on one machine or on a Ray cluster.

Pure Python except :mod:`.worker` (which the worker processes import, with bpy) and
:mod:`.ray_pool` (which needs the optional ``ray`` extra).
"""

from .events import MeshFailed, MeshRendered, MeshSkipped, MeshStarted, ViewRendered
from .inputs import BatchInput, collect_inputs, parse_part, select_part
from .run import BatchSummary, StreamedView, batch_events, run_batch, stream_views
from .status import DatasetStatus, dataset_status
from .store import read_failures, read_index

__all__ = ["BatchInput", "BatchSummary", "DatasetStatus", "MeshFailed", "MeshRendered", "MeshSkipped", "MeshStarted",
           "StreamedView", "ViewRendered", "batch_events", "collect_inputs", "dataset_status", "parse_part",
           "read_failures", "read_index", "run_batch", "select_part", "stream_views"]
