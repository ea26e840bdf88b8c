"""Where the checkout is, for tests in any stage folder: ``from repo import ROOT``."""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
"""The repository root (the folder holding README.md, docs/, examples/ and the package)."""
