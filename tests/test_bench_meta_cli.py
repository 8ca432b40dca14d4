"""The command line of ``benchmarks/bench_meta.py``: a part of the study is named by the
searches it runs, and a name outside the study is refused before any cluster starts."""

import subprocess
import sys
from pathlib import Path

from memsim.rules.meta import META_SEARCHES

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_meta.py"


def test_an_unknown_search_is_refused_with_the_studys_names(tmp_path):
    out = subprocess.run([sys.executable, str(SCRIPT), "--store-dir", str(tmp_path),
                          "--searches", "mushroom_digits_float", "mushroom_digits_rram8"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert "unknown searches ['mushroom_digits_rram8']" in out.stderr
    for name in META_SEARCHES:
        assert name in out.stderr
    assert "Traceback" not in out.stderr
    assert list(tmp_path.iterdir()) == []  # nothing was stored
