"""The fenced code blocks of README.md and docs/*.md, with the marker that says who runs each one.

A shell or Python block must be preceded by one HTML comment (invisible on GitHub), the line right
above its fence:

    <!-- docs: run -->                     tests/docs/test_docs.py runs it (see SIZE_CAPS) in the page's sandbox
    <!-- docs: run needs=cv2,imageio -->   the same, skipped (saying so) where a module is missing
    <!-- docs: run exit=1 -->              the same, and the command must exit with 1 (a failed input)
    <!-- docs: ci -->                      .ci/run runs every line of it verbatim
    <!-- docs: test tests/test_x.py TAG --> that test runs it, reading it with docs_block(page, "TAG")
    <!-- docs: not-run REASON -->          cannot run in a test (a second machine); the reason is listed
    <!-- docs: output -->                  (any block) what the run block above printed: checked
                                           line by line, numbers and the sandbox path masked

The rules and the sandbox are described in docs/architecture.md ("Docs that cannot rot").
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMAND_LANGUAGES = {"bash", "sh", "shell", "python", "py"}
MARKER = re.compile(r"^<!--\s*docs:\s*(?P<kind>[a-z-]+)\s*(?P<rest>.*?)\s*-->$")
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<language>[A-Za-z0-9_+-]*)\s*$")


@dataclass
class Block:
    page: str          # relative to the checkout, e.g. "docs/cli.md"
    line: int          # line of the opening fence (1-based)
    language: str
    text: str
    kind: str | None   # run, ci, test, not-run, output (None: no marker)
    rest: str          # the marker's arguments

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def is_command(self) -> bool:
        return self.language in COMMAND_LANGUAGES

    @property
    def exit_code(self) -> int:
        found = re.search(r"exit=(\d+)", self.rest)
        return int(found.group(1)) if found else 0

    @property
    def needs(self) -> list[str]:
        found = re.search(r"needs=(\S+)", self.rest)
        return found.group(1).split(",") if found else []


def pages() -> list[str]:
    """README.md and every docs/*.md, relative to the checkout."""
    return ["README.md"] + sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))


def blocks(page: str) -> list[Block]:
    """Every fenced block of ``page`` in order (indented fences inside lists included)."""
    lines = open(os.path.join(ROOT, page), encoding="utf-8").read().splitlines()
    found, index = [], 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        indent, start = fence["indent"], index
        body = []
        index += 1
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index][len(indent):] if lines[index].startswith(indent) else lines[index])
            index += 1
        above = next((lines[i].strip() for i in range(start - 1, -1, -1) if lines[i].strip()), "")
        marker = MARKER.match(above)
        found.append(Block(page, start + 1, fence["language"], "\n".join(body) + "\n",
                           marker["kind"] if marker else None, marker["rest"] if marker else ""))
        index += 1
    return found


def docs_block(page: str, tag: str) -> str:
    """The text of the block of ``page`` marked ``<!-- docs: test <this test file> TAG -->``."""
    for block in blocks(page):
        if block.kind == "test" and block.rest.split()[1:2] == [tag]:
            return block.text
    raise LookupError(f"{page} has no block marked 'docs: test ... {tag}'")


# Sizes a docs command is run with, and why it is honest: the commands are run as written, except
# that view counts, image sizes and worker counts above these are lowered (the other tests check
# the numbers at every size; these runs check that the commands work and print what the page says).
SIZE_CAPS = [
    (re.compile(r"(--views )(\d+)"), 6),
    (re.compile(r"(--resolution )(\d+) \d+"), 32),
    (re.compile(r"(--workers )(\d+)"), 1),
    (re.compile(r"(\bviews=)(\d+)"), 6),
    (re.compile(r"(\bn_views=)(\d+)"), 6),
    (re.compile(r"(\bresolution=\()(\d+), \d+"), 32),
    (re.compile(r"(\bIntrinsics\()(\d+), \d+"), 32),
    (re.compile(r"(\.views = )(\d+)"), 6),
    (re.compile(r"(\bworkers=)(\d+)"), 1),
]


CLI_COMMAND = re.compile(r"^(\s*depth-views (?:render|batch) .*?)(\s*#.*)?$", re.M)


def capped(text: str) -> str:
    """``text`` with every size above its cap in SIZE_CAPS lowered to the cap; a ``depth-views render``
    or ``batch`` line that relies on the default size (24 views of 512 x 512, 2 batch workers) gets
    the caps appended."""
    text = text.replace("\\\n", " ")

    def defaults(match):
        line = match.group(1)
        if "--views" not in line and "--grid" not in line:
            line += f" --views {SIZE_CAPS[0][1]}"
        if "--resolution" not in line:
            line += f" --resolution {SIZE_CAPS[1][1]} {SIZE_CAPS[1][1]}"
        if line.lstrip().startswith("depth-views batch") and "--workers" not in line and "--ray" not in line:
            line += f" --workers {SIZE_CAPS[2][1]}"
        return line + (match.group(2) or "")

    text = CLI_COMMAND.sub(defaults, text)
    for pattern, cap in SIZE_CAPS:
        def lower(match, cap=cap):
            value = int(match.group(2))
            if value <= cap:
                return match.group(0)
            if "resolution" in match.group(1) or "Intrinsics" in match.group(1):
                separator = " " if match.group(1).startswith("--") else ", "
                return f"{match.group(1)}{cap}{separator}{cap}"
            return f"{match.group(1)}{cap}"
        text = pattern.sub(lower, text)
    return text
