"""Execute notebooks in place and store their outputs (figures inline), for the
documentation site, which shows notebooks with their stored outputs.

``python scripts/store_notebooks.py [--small] [NOTEBOOK ...]`` (default: every notebook in
``notebooks/``). ``--small`` runs them with ``MEMSIM_SMALL=1``, the settings CI uses; each
notebook's first output says which settings produced it. Run by ``make notebooks``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--small", action="store_true", help="MEMSIM_SMALL=1 settings")
    parser.add_argument("--timeout", type=float, default=7200, help="seconds per cell")
    args = parser.parse_args()
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    os.environ.pop("MPLBACKEND", None)  # the kernel's inline backend stores the figures
    if args.small:
        os.environ["MEMSIM_SMALL"] = "1"
    else:
        os.environ.pop("MEMSIM_SMALL", None)
    for path in paths:
        t0 = time.perf_counter()
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=args.timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        nbformat.write(nb, path)
        figures = sum("image/png" in o.get("data", {}) for c in nb.cells
                      if c.cell_type == "code" for o in c.get("outputs", []))
        print(f"{path.name}: {figures} figures stored, {time.perf_counter() - t0:.0f} s",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
