"""Hugging Face ``datasets`` for the tests: imported past the checkout's own ``datasets/`` folder
(the checkout is on ``sys.path`` when pytest runs from it, and ``import datasets`` would find
``depth_views.datasets``' folder), its cache in a test folder, and no network."""

from __future__ import annotations

import importlib
import os
import sys

from repo import ROOT


def import_hf_datasets():
    """The ``datasets`` package of Hugging Face, or None where it is not installed."""
    module = sys.modules.get("datasets")
    if module is None:
        saved = sys.path[:]
        sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.curdir) != os.path.realpath(ROOT)]
        try:
            module = importlib.import_module("datasets")
        except ImportError:
            return None
        finally:
            sys.path[:] = saved
    return module if hasattr(module, "load_dataset") else None


def offline_environment(cache_root) -> dict:
    """The environment that keeps Hugging Face's caches under ``cache_root`` and off the network."""
    return {"HF_HOME": str(cache_root), "HF_DATASETS_CACHE": os.path.join(str(cache_root), "datasets"),
            "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
