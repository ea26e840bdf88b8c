"""The docs cannot rot: every shell and Python block of README.md and docs/*.md says who runs it
(tests/docs_blocks.py), the ``run`` blocks are run here in a sandbox and print what the page shows,
and every relative link resolves.  The mechanism is described in docs/architecture.md."""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

from docs_blocks import ROOT, Block, blocks, capped, pages

KINDS = {"run", "ci", "test", "not-run"}
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _all_blocks() -> list[Block]:
    return [block for page in pages() for block in blocks(page)]


def test_every_command_block_says_who_runs_it():
    problems = []
    ci_script = open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8").read()
    for page in pages():
        previous = None
        for block in blocks(page):
            if block.is_command and block.kind not in KINDS:
                problems.append(f"{block.where}: a {block.language} block needs a marker, one of "
                                f"{sorted(KINDS)} (see docs/architecture.md)")
            if block.kind == "output" and (previous is None or previous.kind != "run"):
                problems.append(f"{block.where}: an output block must follow a run block")
            if block.kind == "test":
                test_file, _, tag = block.rest.partition(" ")
                path = os.path.join(ROOT, test_file)
                if not tag or not os.path.isfile(path):
                    problems.append(f"{block.where}: 'test' needs an existing test file and a tag")
                elif f'docs_block("{page}", "{tag}")' not in open(path, encoding="utf-8").read():
                    problems.append(f"{block.where}: {test_file} does not read this block "
                                    f'(docs_block("{page}", "{tag}"))')
            if block.kind == "ci":
                for line in _command_lines(block.text):
                    if line not in ci_script:
                        problems.append(f"{block.where}: .ci/run does not run {line!r}")
            if block.kind == "not-run" and len(block.rest) < 10:
                problems.append(f"{block.where}: say why this block cannot run")
            previous = block
    assert problems == []


def test_only_cluster_commands_are_not_run():
    """The exceptions stay few: commands that need a second machine."""
    not_run = [f"{b.where}: {b.rest}" for b in _all_blocks() if b.kind == "not-run"]
    assert len(not_run) <= 2, not_run


def _command_lines(text: str) -> list[str]:
    joined = text.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def _anchors(page: str) -> set[str]:
    """GitHub's anchors of the page's headings."""
    anchors = set()
    for line in open(os.path.join(ROOT, page), encoding="utf-8"):
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


def test_every_relative_link_resolves():
    broken = []
    for page in pages():
        text = open(os.path.join(ROOT, page), encoding="utf-8").read()
        text = re.sub(r"```.*?```", "", text, flags=re.S)  # links inside code are not links
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            resolved = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
            if not os.path.exists(os.path.join(ROOT, resolved)):
                broken.append(f"{page}: {target} (no {resolved})")
            elif anchor and resolved.endswith(".md") and anchor not in _anchors(resolved):
                broken.append(f"{page}: {target} (no heading #{anchor} in {resolved})")
    assert broken == []


def test_size_caps_lower_only_what_is_above_them():
    assert capped("depth-views render a.obj --views 100 --resolution 256 256 --workers 4") == \
        "depth-views render a.obj --views 6 --resolution 32 32 --workers 1"
    assert capped("--views 3 --resolution 16 16") == "--views 3 --resolution 16 16"
    assert capped("RenderOptions(views=24, resolution=(128, 128))") == "RenderOptions(views=6, resolution=(32, 32))"
    assert capped("s.views = 24; Intrinsics(256, 256)") == "s.views = 6; Intrinsics(32, 32)"
    # a CLI line relying on the default size gets the caps; a grid keeps its own view count
    assert capped("depth-views render a.obj --out o   # c\ndepth-views batch d --grid 8 3 --out o\n") == \
        "depth-views render a.obj --out o --views 6 --resolution 32 32   # c\n" \
        "depth-views batch d --grid 8 3 --out o --resolution 32 32 --workers 1\n"


# ------------------------------------------------------------------------------------------------
# Running the pages

RUN_PAGES = [page for page in pages() if any(b.kind == "run" for b in blocks(page))]


def _sandbox(folder) -> str:
    """The checkout's examples/, tests/, tools/ and benchmarks/, and the files the pages' commands
    name: the bundled Suzanne as chair.glb and part.stl, a meshes/ folder and list, a ShapeNet-like
    tree, data/ with one broken file.  ``python`` and ``depth-views`` on PATH are this Python."""
    trimesh = pytest.importorskip("trimesh")
    for name in ("examples", "tests", "tools", "benchmarks"):
        shutil.copytree(os.path.join(ROOT, name), folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    suzanne = trimesh.load(os.path.join(ROOT, "examples", "suzanne.obj"), force="mesh")
    suzanne.export(folder / "chair.glb")
    suzanne.export(folder / "part.stl")
    for relative in ("meshes/suzanne.obj", "meshes/more/monkey.obj", "data/chairs/a1/model.obj",
                     "ShapeNetCore.v2/02691156/1a04e3eab45ca15dd86060f189eb133/models/model_normalized.obj"):
        os.makedirs(folder / os.path.dirname(relative), exist_ok=True)
        shutil.copy(os.path.join(ROOT, "examples", "suzanne.obj"), folder / relative)
    (folder / "meshes.txt").write_text("# one path a line, relative to this file\nmeshes/suzanne.obj\n"
                                       "meshes/more/monkey.obj\n")
    os.makedirs(folder / "data" / "bad")
    (folder / "data" / "bad" / "nan.obj").write_text("v nan 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    shims = folder / ".bin"
    os.makedirs(shims)
    for name, command in (("python", f'exec "{sys.executable}" "$@"'),
                          ("depth-views", f'exec "{sys.executable}" -m depth_views "$@"')):
        (shims / name).write_text(f"#!/bin/sh\n{command}\n")
        os.chmod(shims / name, 0o755)
    return str(shims)


def _run_shell(text: str, cwd, shims: str, exit_code: int = 0) -> str:
    path = os.pathsep.join([shims, os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    environment = {**os.environ, "PATH": path, "SLURM_ARRAY_TASK_ID": "0"}
    done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", text], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == exit_code, f"exit {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


def _cli_lines(text: str) -> list[str] | None:
    """The block's commands if every one is a ``depth-views`` call (comments aside), else None."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return lines if lines and all(line.startswith("depth-views ") for line in lines) else None


def _run_cli(lines: list[str], exit_code: int, capfd) -> str:
    """``depth-views`` lines run in this process: the console script is ``depth_views.cli:main``, so
    this is the same code without a new process (and a new Blender) per command."""
    from depth_views.cli import main

    capfd.readouterr()
    printed = ""
    for line in lines:
        arguments = shlex.split(os.path.expandvars(line.split(" #")[0]), comments=True)[1:]
        code = main(arguments)
        captured = capfd.readouterr()
        printed += captured.out + captured.err
        assert code == exit_code, f"{line}: exit {code}\n{printed[-3000:]}"
    return printed


def _run_python(text: str, where: str, capfd) -> str:
    capfd.readouterr()
    exec(compile(text, where, "exec"), {"__name__": "__docs__"})  # each block stands alone
    captured = capfd.readouterr()
    return captured.out + captured.err


def _masked(line: str, sandbox: str) -> str:
    line = line.replace(sandbox, "/home/you/depth_views")
    return re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "#", line).strip()


@pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="the pages' commands render with bpy")
@pytest.mark.skipif(os.environ.get("DEPTH_VIEWS_DOCS_RUN") == "0", reason="DEPTH_VIEWS_DOCS_RUN=0 (.ci/run: "
                    "the pages run once, in the bpy 5.0.1 suite)")
@pytest.mark.parametrize("page", RUN_PAGES)
def test_the_commands_of_the_page_run_and_print_what_it_shows(page, tmp_path, monkeypatch, capfd):
    sandbox = tmp_path / "depth_views"
    sandbox.mkdir()
    shims = _sandbox(sandbox)
    monkeypatch.chdir(sandbox)
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "0")  # the job-array example runs as task 0
    output, skipped = None, []
    for block in blocks(page):
        if block.kind == "run":
            missing = [m for m in block.needs if importlib.util.find_spec(m) is None]
            if missing:
                skipped.append(f"{block.where} (needs {', '.join(missing)})")
                output = None
                continue
            text = capped(block.text)
            if block.language in ("python", "py"):
                output = _run_python(text, block.where, capfd)
            elif _cli_lines(text):
                output = _run_cli(_cli_lines(text), block.exit_code, capfd)
            else:
                output = _run_shell(text, sandbox, shims, block.exit_code)
        elif block.kind == "output" and output is not None:
            real = {_masked(line, str(sandbox)) for line in output.splitlines()}
            shown = [line for line in block.text.splitlines() if line.strip()]
            assert [line for line in shown if _masked(line, str(sandbox)) not in real] == [], \
                f"{block.where}: the command printed\n{output}"
    if skipped:
        pytest.skip("not run here: " + "; ".join(skipped))
