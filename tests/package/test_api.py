"""The front door: the supported Python API is importable from ``depth_views`` (names of ``depth_views.api``)
without Blender, and README.md, docs/ and examples/ import nothing else of the package."""

from __future__ import annotations

import ast
import glob
import os
import re
import subprocess
import sys

from docs_blocks import blocks, pages
from repo import ROOT


def test_every_api_name_comes_from_the_package_without_blender():
    # a fresh interpreter where importing Blender fails: the front door must not need it
    script = ("import sys\nsys.modules['bpy'] = None\n"
              "import depth_views, depth_views.api as api\n"
              "missing = [n for n in api.__all__ if getattr(depth_views, n) is not getattr(api, n)]\n"
              "assert not missing, missing\n"
              "try:\n    depth_views.no_such_name\nexcept AttributeError:\n    pass\n"
              "else:\n    raise AssertionError('unknown names must raise AttributeError')\n"
              "print(len(api.__all__))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd="/")
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) >= 20


INTERNAL_IMPORT = re.compile(r"^\s*(?:from\s+depth_views\.(\w+)|import\s+depth_views\.(\w+))", re.M)


def _imported_submodules(source: str) -> set[str]:
    found = set()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {m for groups in INTERNAL_IMPORT.findall(source) for m in groups if m}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("depth_views."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("depth_views.")}
    return found


def test_docs_and_examples_use_only_the_front_door():
    used = {}
    for page in pages():
        for block in blocks(page):
            if block.language == "python":
                for module in _imported_submodules(block.text) - {"api"}:
                    used.setdefault(module, []).append(f"{page}:{block.line}")
    for path in glob.glob(os.path.join(ROOT, "examples", "*.py")):
        for module in _imported_submodules(open(path, encoding="utf-8").read()) - {"api"}:
            used.setdefault(module, []).append(os.path.relpath(path, ROOT))
    assert not used, f"docs/examples import internal modules (use `from depth_views import ...`): {used}"


def test_the_check_finds_an_internal_import():
    assert _imported_submodules("from depth_views.outputs import load_views\nimport depth_views") == {"outputs"}
    assert _imported_submodules("import depth_views.render.job as job") == {"render"}
