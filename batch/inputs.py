"""What a batch renders and where each result goes: sources, output names, parts (pure Python).

A SOURCE is a folder (searched recursively for supported suffixes), a glob pattern, a text file
listing one path a line, or a single mesh file.  Every input gets an output name that is its path
relative to the source's root, without the suffix (``chairs/0042/model.obj`` -> ``chairs/0042/model``),
with every component sanitised, so names are stable when files are added to a dataset and can never
leave the output folder.  Names are decided over the whole input list, before sharding, so shards of
one run never collide.
"""

from __future__ import annotations

import glob
import hashlib
import os
from dataclasses import dataclass

from ..errors import DepthViewsError
from ..options import SUPPORTED_SUFFIXES, sanitized_name
# The batch's own files at the top of the output folder (index.jsonl, failures.part-0-of-4.jsonl):
# no input's output folder may take such a name.
RESERVED_PREFIXES = ("index.", "failures.")


@dataclass(frozen=True)
class BatchInput:
    """One input of a batch: absolute ``path`` and its output ``name`` (``/``-separated, relative)."""

    path: str
    name: str


def _component(text: str) -> str:
    return sanitized_name(text + ".x")  # sanitized_name drops a suffix; keep dots inside folder names


def _relative_stem(path: str, root: str) -> list[str]:
    relative = os.path.relpath(path, root)
    parts = [p for p in relative.split(os.sep) if p not in ("", ".")]
    if not parts or ".." in parts:  # not under root: fall back to the bare file name
        parts = [os.path.basename(path)]
    return [_component(p) for p in parts[:-1]] + [sanitized_name(parts[-1])]


def _read_list_file(list_path: str) -> list[str]:
    try:
        with open(list_path, encoding="utf-8") as stream:
            lines = stream.read().splitlines()
    except UnicodeDecodeError:
        raise DepthViewsError(f"{list_path}: the list file is not UTF-8 text") from None
    except OSError as error:
        raise DepthViewsError(f"{list_path}: cannot read the list file ({error.strerror})") from None
    folder = os.path.dirname(os.path.abspath(list_path))
    paths = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            paths.append(os.path.normpath(os.path.join(folder, os.path.expanduser(line))))
    return paths


def _glob_root(pattern: str) -> str:
    parts = os.path.abspath(pattern).split(os.sep)
    fixed = []
    for part in parts[:-1]:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return os.sep.join(fixed) or os.sep


def _folder_files(folder: str, exclude: str | None) -> list[str]:
    found = []
    for directory, subdirs, files in os.walk(folder):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith(".")
                            and (exclude is None or os.path.join(directory, d) != exclude))
        found += [os.path.join(directory, f) for f in sorted(files)
                  if not f.startswith(".") and os.path.splitext(f)[1].lower() in SUPPORTED_SUFFIXES]
    return sorted(found, key=lambda p: os.path.relpath(p, folder).split(os.sep))


def source_paths(source: str, *, exclude: str | None = None) -> tuple[list[str], str]:
    """The input paths of one SOURCE, in a deterministic order, and the root names are relative to.

    ``exclude`` is a folder not to search (the output folder, when it lies inside a source folder).
    Raises :class:`DepthViewsError` when the source does not exist or a glob matches nothing.
    """
    source = os.path.expanduser(os.fspath(source))
    if os.path.isdir(source):
        root = os.path.abspath(source)
        return _folder_files(root, exclude and os.path.abspath(exclude)), root
    if os.path.isfile(source):
        path = os.path.abspath(source)
        if os.path.splitext(path)[1].lower() in SUPPORTED_SUFFIXES:
            return [path], os.path.dirname(path)
        paths = _read_list_file(path)
        directories = [os.path.dirname(p) for p in paths]
        return paths, (os.path.commonpath(directories) if directories else os.path.dirname(path))
    if glob.has_magic(source):
        paths = sorted(os.path.abspath(p) for p in glob.glob(source, recursive=True)
                       if os.path.isfile(p) and os.path.splitext(p)[1].lower() in SUPPORTED_SUFFIXES)
        if not paths:
            raise DepthViewsError(f"{source}: the pattern matches no mesh or .blend file")
        return paths, _glob_root(source)
    raise DepthViewsError(f"{source}: no such file, folder or matching pattern")


def _reserved(name: str) -> bool:
    top = name.casefold()
    return "/" not in top and top.startswith(RESERVED_PREFIXES) and top.endswith(".jsonl")


def output_names(relative_stems: list[list[str]]) -> list[str]:
    """One distinct, safe output name per input, from its relative path components.

    Collisions (case-insensitive: ``a.obj`` and ``A.ply``; a name that is also a folder of another
    name; a name the batch's own files use) get ``-2``, ``-3``... on the last component, in list order.
    """
    taken = {"/".join(parts[:k]).casefold() for parts in relative_stems for k in range(1, len(parts))}
    names = []
    for parts in relative_stems:
        base = "/".join(parts)
        name, k = base, 1
        while name.casefold() in taken or _reserved(name):
            k += 1
            name = f"{base}-{k}"
        taken.add(name.casefold())
        names.append(name)
    return names


def collect_inputs(sources: list[str], *, exclude: str | None = None) -> list[BatchInput]:
    """All inputs of ``sources`` (each path once, first occurrence wins) with their output names.

    Files inside ``exclude`` (the output folder) are never inputs.
    """
    seen, paths, stems = set(), [], []
    inside = os.path.join(os.path.abspath(exclude), "") if exclude else None
    for source in sources:
        found, root = source_paths(source, exclude=exclude)
        for path in found:
            if inside and path.startswith(inside):
                continue
            if path not in seen:
                seen.add(path)
                paths.append(path)
                stems.append(_relative_stem(path, root))
    return [BatchInput(p, n) for p, n in zip(paths, output_names(stems))]


def parse_part(text: str) -> tuple[int, int]:
    """``"K/N"`` with 0 <= K < N -> (K, N) (``--part``, part K of N of a job array); raises
    :class:`DepthViewsError` otherwise."""
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise DepthViewsError(f"--part {text!r}: expected K/N, e.g. 0/8 for the first of 8 parts") from None
    if not (n >= 1 and 0 <= k < n):
        raise DepthViewsError(f"--part {text}: need N >= 1 and 0 <= K < N (parts are numbered from 0)")
    return k, n


def part_of(name: str, n_parts: int) -> int:
    """The part (0..n_parts-1) an output name belongs to: a hash of the name, so it does not depend
    on the order of the list or on other inputs being added or removed."""
    digest = hashlib.sha1(name.casefold().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % n_parts


def select_part(inputs: list[BatchInput], part: tuple[int, int] | None) -> list[BatchInput]:
    """The inputs of part ``(k, n)``, in list order (all of them for None)."""
    if part is None:
        return list(inputs)
    k, n = part
    return [item for item in inputs if part_of(item.name, n) == k]
