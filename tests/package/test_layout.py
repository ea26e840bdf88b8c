"""The package layout shows the data flow: every module imports only from its own stage or an earlier one,
and the stages the style guide calls pure never import Blender.  Read from the source with ``ast``
(no import is executed), so this runs in any Python."""

from __future__ import annotations

import ast
import os
import re

import pytest
from repo import ROOT  # noqa: E402

NOT_PACKAGE = {"tests", "benchmarks", "tools", "examples", "docs", "wheels", "artifacts", "build", "dist"}

# Import floors, lowest first.  A module may import from its own floor or a lower one, never a higher one.
# The root keeps what every stage shares (errors, options) and the entry points (registration, CLI).
FLOORS = {
    "errors": 0,
    "cameras": 1, "exr_io": 1,            # pure numpy: camera maths and files; EXR read/write
    "options": 2, "resolved": 2,          # the settings, and the setup resolved from them once per run
    "inputs": 3,                          # pre-import guards, the OFF reader, Blender's importers
    "compositor": 4,                      # the one place that knows each Blender's node API
    "outputs": 5,                         # writers for what a render gives (pure numpy)
    "render": 6,                          # renderer and per-input job (the job calls the writers)
    "batch": 7,                           # many inputs: workers, journals, streaming
    "panels": 8, "operators": 8, "addon": 8,   # the add-on UI and registration
    "datasets": 8,                        # reading rendered views back for training (pure numpy)
    "cli": 9, "__main__": 9, "": 9,       # entry points ("" is the package's own __init__)
    "api": 9,                             # the front door: the supported Python API in one place
}
# Modules that must work without Blender (the readers and the maths): no bpy/mathutils import at all.
NO_BLENDER = ("errors", "options", "resolved", "api", "cameras", "exr_io", "outputs", "inputs.mesh_guard",
              "render.allocator", "cli", "datasets")
BLENDER_MODULES = {"bpy", "mathutils", "bmesh", "gpu", "bl_math"}


def package_modules() -> dict[str, str]:
    """Module name inside the package ('' for the root ``__init__``) -> file path, for every source file."""
    found = {}
    for folder, subfolders, files in os.walk(ROOT):
        relative = os.path.relpath(folder, ROOT)
        parts = [] if relative == "." else relative.split(os.sep)
        if parts and (parts[0] in NOT_PACKAGE or parts[0].startswith(".")):
            subfolders[:] = []
            continue
        subfolders[:] = [name for name in subfolders if not name.startswith((".", "__"))]
        if parts and "__init__.py" not in files:
            subfolders[:] = []  # not a package (e.g. a stray folder): nothing in it ships
            continue
        for name in files:
            if name.endswith(".py"):
                module = parts + ([] if name == "__init__.py" else [name[:-3]])
                found[".".join(module)] = os.path.join(folder, name)
    return found


def imported_modules(module: str, path: str) -> set[str]:
    """Every module of the package ``module`` imports (top level or inside functions), and every
    non-package top-level name (e.g. 'bpy'), prefixed with '!'."""
    with open(path, encoding="utf-8") as stream:
        tree = ast.parse(stream.read(), path)
    package = module.split(".") if module else []
    if not path.endswith("__init__.py"):
        package = package[:-1]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                out.add(alias.name.removeprefix("depth_views.") if top == "depth_views" else "!" + top)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                top = (node.module or "").split(".")[0]
                if top != "depth_views":
                    out.add("!" + top)
                    continue
                base = (node.module or "").split(".")[1:]
            else:
                base = package[: len(package) - (node.level - 1)] + ((node.module or "").split(".") if node.module else [])
            for alias in node.names:
                out.add(".".join(base + [alias.name]))  # may name a module or an attribute: both map to a floor
                if base:
                    out.add(".".join(base))
    return out


def floor_of(module: str) -> int:
    return FLOORS[module.split(".")[0]]


MODULES = package_modules()


def test_every_module_has_a_floor_and_the_root_keeps_only_shared_modules_and_entry_points():
    assert {"cameras.views", "cameras.camera_set", "inputs.scene_import", "render.job", "render.renderer"} <= set(MODULES)
    unplaced = sorted(m for m in MODULES if m.split(".")[0] not in FLOORS)
    assert not unplaced, f"modules outside every stage (give them a floor in FLOORS or move them): {unplaced}"
    root_modules = sorted(m for m in MODULES if "." not in m and m and not os.path.exists(os.path.join(ROOT, m)))
    assert root_modules == ["__main__", "addon", "api", "cli", "errors", "options", "resolved"], root_modules


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_one_way_only(module):
    upward = sorted(target for target in imported_modules(module, MODULES[module])
                    if not target.startswith("!") and target.split(".")[0] in FLOORS
                    and floor_of(target) > floor_of(module))
    assert not upward, f"{module} (floor {floor_of(module)}) imports from a later stage: {upward}"


@pytest.mark.parametrize("module", [m for m in sorted(MODULES) if m.startswith(NO_BLENDER)])
def test_pure_stages_never_import_blender(module):
    blender = sorted(t[1:] for t in imported_modules(module, MODULES[module]) if t[1:] in BLENDER_MODULES)
    assert not blender, f"{module} must work without Blender but imports {blender}"


def test_the_layout_check_catches_an_upward_import(tmp_path):
    """The checker itself can fail: a made-up exr_io module importing the batch stage is flagged."""
    fake = tmp_path / "reading.py"
    fake.write_text("from ..batch import run_batch\nimport bpy\n")
    targets = imported_modules("exr_io.reading", str(fake))
    assert "batch.run_batch" in targets and "!bpy" in targets
    assert floor_of("batch.run_batch") > floor_of("exr_io.reading")


MAP_ROW = re.compile(r"^\| `(?P<path>[^`]+\.py)` \| (?P<bpy>[^|]+) \| (?P<what>[^|]+) \|$")


def code_map(text: str) -> dict[str, str]:
    """``{module path: purpose}`` of the rows of docs/architecture.md's "Code map" table."""
    section = text.split("\n## Code map\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = MAP_ROW.match(line.strip())
        if match:
            assert match["path"] not in rows, f"{match['path']} has two rows"
            rows[match["path"]] = match["what"].strip()
    return rows


def test_the_code_map_lists_every_module_with_its_purpose():
    """docs/architecture.md's code map has one row per module of the package, no more: a newcomer
    finds any module there, and a module added, moved or deleted without its row fails here."""
    with open(os.path.join(ROOT, "docs", "architecture.md"), encoding="utf-8") as stream:
        rows = code_map(stream.read())
    tree = {os.path.relpath(path, ROOT) for path in MODULES.values()}
    assert sorted(tree - set(rows)) == [], "modules without a row in the code map"
    assert sorted(set(rows) - tree) == [], "code map rows of modules that do not exist"
    assert all(len(what) >= 10 for what in rows.values()), "every row says what its module is for"


def test_the_code_map_check_finds_a_missing_row():
    text = "# x\n\n## Code map\n\n| module | bpy? | what |\n|---|---|---|\n| `a.py` | no | the a module does a |\n\n## Next\n"
    assert code_map(text) == {"a.py": "the a module does a"}
    assert code_map(text.replace("| `a.py` |", "| `b/a.py` |")) == {"b/a.py": "the a module does a"}
