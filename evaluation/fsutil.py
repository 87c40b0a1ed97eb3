"""Writing into place atomically: one helper for every folder the toolkit replaces (the review's
bundle, an imported cohort folder) and every file it rewrites (evidence tables)."""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path


def swap_into_place(staged: str | Path, target: str | Path, *, aside: str = "previous") -> None:
    """Replace folder ``target`` by ``staged`` with renames on one filesystem.

    An existing ``target`` is renamed to ``.<name>.<aside>-<pid>`` beside it first, put back if the
    second rename fails, and deleted only after the new folder is in place: a reader sees the old
    folder or the new one, never a half-written one.
    """
    staged, target = Path(staged), Path(target)
    if not target.exists():
        os.replace(staged, target)
        return
    previous = target.parent / f".{target.name}.{aside}-{os.getpid()}"
    os.replace(target, previous)
    try:
        os.replace(staged, target)
    except BaseException:
        os.replace(previous, target)
        raise
    shutil.rmtree(previous, ignore_errors=True)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def would_delete(target: str | Path, protected: Iterable[tuple[str | Path, str]]) -> tuple[str, Path | None] | None:
    """What replacing folder ``target`` would delete of ``protected`` (``(path, what)`` pairs, in
    order): ``(what, None)`` when ``target`` is that path, ``(what, path)`` when it contains it, or
    ``None``. Paths are compared after resolving symbolic links and ``..``."""
    real = Path(os.path.realpath(target))
    for path, what in protected:
        p = Path(os.path.realpath(path))
        if real == p:
            return what, None
        if real in p.parents:
            return what, p
    return None
