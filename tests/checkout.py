"""A copy of this checkout as a user's clone may look: tracked files plus the folders people leave in it."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Folders people leave in a checkout (a virtual environment under each usual name, a scratch package,
# an untracked module inside a package folder).  Each holds a .py file or a failing test.
CLUTTER = {
    ".venv/pyvenv.cfg": "home = /usr/bin\n",
    ".venv/lib/python3.11/site-packages/clutter_pkg/__init__.py": "import socket\n",
    ".venv/lib/python3.11/site-packages/clutter_pkg/tests/test_clutter.py": "def test_clutter():\n    assert False\n",
    "venv/lib/clutter.py": "import socket\n",
    "venv/test_clutter.py": "def test_clutter():\n    assert False\n",
    "env/test_clutter.py": "def test_clutter():\n    assert False\n",
    "scratch/__init__.py": "import socket\n",
    "operators/untracked_helper.py": "import socket\n",
}


def cluttered_copy(copy) -> "os.PathLike":
    """Copy this checkout's tracked files (as they are in the working tree, committed or not) to ``copy``,
    make it a git repository with one commit, then add ``CLUTTER``: untracked, as in a user's clone.
    Skips the test without git or outside a git checkout."""
    if shutil.which("git") is None:
        pytest.skip("needs git")
    listed = subprocess.run(["git", "-C", ROOT, "ls-files", "-z"], capture_output=True)
    if listed.returncode != 0:
        pytest.skip(f"{ROOT} is not a git checkout")
    for relative in filter(None, listed.stdout.decode().split("\0")):
        if os.path.isfile(os.path.join(ROOT, relative)):
            os.makedirs(copy / os.path.dirname(relative), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, relative), copy / relative)
    git = ["git", "-C", str(copy), "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "copy"]):
        done = subprocess.run(git + command, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    for relative, text in CLUTTER.items():
        (copy / relative).parent.mkdir(parents=True, exist_ok=True)
        (copy / relative).write_text(text)
    return copy
