"""The numba cache directory is keyed by memsim's sources (numba itself only notices edits to
a cached function's own file, not to the jitted functions it calls from other files)."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import memsim
from memsim._cache import prune, source_digest

PACKAGE = Path(memsim.__file__).parent


def test_digest_follows_every_source_file(tmp_path):
    tree = tmp_path / "memsim"
    shutil.copytree(PACKAGE, tree, ignore=shutil.ignore_patterns("__pycache__"))
    before = source_digest(tree)
    assert before == source_digest(PACKAGE)  # same sources, same directory
    kernels = tree / "devices" / "kernels.py"
    kernels.write_text(kernels.read_text() + "\n# an edit in a callee's file\n")
    edited = source_digest(tree)
    assert edited != before
    (tree / "devices" / "extra.py").write_text("")
    assert source_digest(tree) not in (before, edited)


def test_cache_lives_under_numba_cache_dir_per_source_version(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", "import memsim, numba; "
                          "print(memsim.NUMBA_CACHE); print(numba.config.CACHE_DIR)"],
                         env=env, capture_output=True, text=True, check=True).stdout.split()
    expected = str(tmp_path / source_digest(PACKAGE))
    assert out == [expected, expected]


def test_prune_removes_only_stale_other_versions(tmp_path):
    stale, fresh, current = (tmp_path / n for n in ("0" * 16, "1" * 16, "2" * 16))
    other = tmp_path / "not-a-version"
    for d in (stale, fresh, current, other):
        d.mkdir()
    old = time.time() - 30 * 86400
    for d in (stale, current, other):
        os.utime(d, (old, old))
    prune(tmp_path, keep=current.name)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [fresh.name, current.name, other.name])
