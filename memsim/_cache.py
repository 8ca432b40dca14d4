"""Where numba keeps memsim's compiled kernels: one directory per version of the sources.

numba invalidates a cached function only when *its own* source file changes, not when a
jitted function it calls from another file does (numba/numba#8396, unmerged): after an edit to
``memsim/devices/kernels.py`` the transient loop in ``memsim/solve/transient.py`` would keep
running the old device code from the cache. memsim therefore points numba at a subdirectory
named by a digest of all its source files, so any change compiles afresh and identical
sources (every Dask worker of a sweep, every CI run of one commit) share one cache.

The base directory is ``NUMBA_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/memsim/numba``
(``~/.cache/memsim/numba``). Directories of other versions are deleted after a week unused.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from pathlib import Path

__all__ = ["DIRECTORY", "base_directory", "configure", "prune", "source_digest"]


def source_digest(root: Path) -> str:
    """Hex digest of every ``*.py`` file under ``root`` (relative paths and contents).

    >>> import memsim, pathlib
    >>> len(source_digest(pathlib.Path(memsim.__file__).parent))
    16
    """
    h = hashlib.blake2b(digest_size=8)
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def base_directory() -> Path:
    """``$NUMBA_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/memsim/numba``
    (``~/.cache/memsim/numba``): the versions' directories live below it."""
    env = os.environ.get("NUMBA_CACHE_DIR")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "memsim" / "numba"


def configure() -> Path:
    """Point numba's cache at this source version's directory and return it.

    Runs when this module is imported, which ``memsim/__init__.py`` does before anything
    else: numba picks a function's cache location when its decorator executes.
    """
    import numba

    base = base_directory()
    path = base / source_digest(Path(__file__).parent)
    setattr(numba.config, "CACHE_DIR", str(path))  # noqa: B010 (no stub for numba.config)
    prune(base, keep=path.name)
    return path


def prune(base: Path, *, keep: str, max_age_days: float = 7.0) -> None:
    """Delete other versions' cache directories under ``base`` unused for ``max_age_days``
    (a process still using one just compiles again)."""
    cutoff = time.time() - max_age_days * 86400
    try:
        old = [d for d in base.iterdir() if d.name != keep and re.fullmatch(r"[0-9a-f]{16}", d.name)
               and d.is_dir() and d.stat().st_mtime < cutoff]
    except OSError:
        return
    for d in old:
        shutil.rmtree(d, ignore_errors=True)


DIRECTORY = configure()
"""This source version's cache directory (set when memsim is imported)."""
