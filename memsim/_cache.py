"""Where numba keeps memsim's compiled kernels: one directory per version of the sources.

numba invalidates a cached function only when *its own* source file changes, not when a
jitted function it calls from another file does (numba/numba#8396, unmerged): after an edit to
``memsim/devices/kernels.py`` the transient loop in ``memsim/solve/transient.py`` would keep
running the old device code from the cache. memsim therefore points numba at a subdirectory
named by a digest of all its source files, so any change compiles afresh and identical
sources (every Dask worker of a sweep, every CI run of one commit) share one cache.

The base directory is ``NUMBA_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/memsim/numba``
(``~/.cache/memsim/numba``). Directories of other versions are deleted after a week unused.

Importing memsim does not import numba (``memsim --help`` starts in a fraction of a second):
:func:`install` points numba at the directory right after numba's own import, before any
memsim kernel is decorated, whoever imports numba first.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import re
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

__all__ = ["base_directory", "configure", "directory", "install", "prune",
           "source_digest"]


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


@functools.cache
def directory() -> Path:
    """This source version's cache directory: :func:`base_directory` / :func:`source_digest`
    (computed once per process)."""
    return base_directory() / source_digest(Path(__file__).parent)


def configure() -> Path:
    """Point numba's cache at :data:`DIRECTORY` and return it (imports numba).

    numba picks a function's cache location when its decorator executes, so this must run
    before any memsim kernel module is imported; :func:`install` sees to that.
    """
    import numba

    path = directory()
    setattr(numba.config, "CACHE_DIR", str(path))  # noqa: B010 (no stub for numba.config)
    prune(path.parent, keep=path.name)
    return path


class _ConfigureAfterNumba(importlib.abc.MetaPathFinder):
    """Finds numba as usual, and runs :func:`configure` once numba's ``__init__`` has run."""

    def find_spec(self, name: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if name != "numba":
            return None
        sys.meta_path.remove(self)  # one import of numba, then out of the way
        spec = importlib.util.find_spec("numba")
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenConfigure(spec.loader)
        return spec


class _ThenConfigure(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader):
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self.loader  # numba sees its own loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        configure()


def install() -> None:
    """Configure numba's cache now if numba is imported, else right after its import.

    ``memsim/__init__.py`` calls this first thing, so importing memsim stays light.
    """
    if "numba" in sys.modules:
        configure()
    elif not any(isinstance(f, _ConfigureAfterNumba) for f in sys.meta_path):
        sys.meta_path.insert(0, _ConfigureAfterNumba())


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


def __getattr__(name: str) -> Path:
    # DIRECTORY: this source version's cache directory (numba's CACHE_DIR once install() ran),
    # computed on first use: hashing the sources is not needed to answer `memsim --help`.
    if name == "DIRECTORY":
        return directory()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
