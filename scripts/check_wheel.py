"""Build memsim's sdist and wheel, install the wheel into a clean virtual environment outside
the checkout, and run what a new user runs first: the README's Python tour and
``memsim info paper_2x4x2``. Run by ``make wheel-check`` (part of ``make test``).

The wheel is built from the sdist (``python -m build``), so a file missing from either shows
up here. Checks, each a one-line failure with exit code 1:

* memsim is imported from the new environment, not from the checkout;
* every file of the data folders (``memsim.resources.KINDS``) is in the installed package;
* the README tour runs (with ``NUMBA_DISABLE_JIT=1``: compiling the kernels in a fresh
  environment costs a minute and tests nothing about packaging; the rest of ``make test``
  runs them compiled); ``memsim info paper_2x4x2``, ``memsim --version`` and the measured
  device preset ``measured:lea_1t1r_vteam`` work from a scratch folder.

Dependencies come from PyPI through pip's cache, so a second run downloads nothing.
Usage: ``python scripts/check_wheel.py [--keep]`` (``--keep``: leave the environment).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = Path(os.environ.get("MEMSIM_WHEEL_CHECK_DIR",
                           Path(tempfile.gettempdir()) / "memsim-wheel-check"))

PROBE = """\
import json, sys
from pathlib import Path
import memsim
from memsim.resources import KINDS, data_dir
files = {}
for kind in KINDS:
    try:
        root = data_dir(kind)
    except memsim.MemsimError:
        continue
    files[kind] = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
print(json.dumps({"file": memsim.__file__, "version": memsim.__version__, "files": files}))
"""


MEASURED = """\
import memsim
from memsim.devices.measured import fit_path
memsim.devices.preset("measured:lea_1t1r_vteam")
print(fit_path("lea_1t1r_vteam"))
"""


def fail(message: str) -> None:
    print(f"wheel check FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def run(cmd: list[str], *, cwd: Path | None = None, env: dict | None = None,
        quiet: bool = False) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode:
        fail(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
    if not quiet and proc.stdout.strip():
        print(proc.stdout.rstrip())
    return proc.stdout


def checkout_files(kind: str) -> list[str]:
    root = ROOT / kind
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()
                  and "__pycache__" not in p.parts and not p.name.startswith("."))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the environment afterwards")
    args = parser.parse_args()
    if WORK.resolve().is_relative_to(ROOT):
        fail(f"{WORK} lies inside the checkout; the check must run outside it")
    t0 = time.perf_counter()
    shutil.rmtree(WORK, ignore_errors=True)
    dist, venv, scratch = WORK / "dist", WORK / "venv", WORK / "scratch"
    scratch.mkdir(parents=True)

    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        quiet=True)
    wheels, sdists = list(dist.glob("memsim-*.whl")), list(dist.glob("memsim-*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        fail(f"expected one wheel and one sdist in {dist}, got {sorted(dist.iterdir())}")
    t_build = time.perf_counter()

    # No pip inside the new environment: this pip installs into it (--python), without
    # byte-compiling every dependency up front.
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python, memsim_cmd = venv / "bin" / "python", venv / "bin" / "memsim"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-compile", "--disable-pip-version-check", str(wheels[0])], quiet=True)
    t_install = time.perf_counter()

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(MPLBACKEND="Agg", NUMBA_CACHE_DIR=str(WORK / "numba"))
    probe = json.loads(run([str(python), "-I", "-c", PROBE], cwd=scratch, env=env, quiet=True))
    if not Path(probe["file"]).resolve().is_relative_to(venv.resolve()):
        fail(f"memsim was imported from {probe['file']}, not from the new environment")
    from memsim.resources import KINDS  # the checkout's list of shipped folders

    for kind in probe["files"].keys() | {k for k in KINDS if (ROOT / k).is_dir()}:
        shipped, expected = probe["files"].get(kind, []), checkout_files(kind)
        if shipped != expected:
            missing = sorted(set(expected) - set(shipped))
            fail(f"the wheel's {kind}/ differs from the checkout's: missing {missing[:5]}, "
                 f"extra {sorted(set(shipped) - set(expected))[:5]}")

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = "\n".join(re.findall(r"```python\n(.*?)```", readme, re.S))
    if not tour:
        fail("README.md has no Python tour")
    (scratch / "tour.py").write_text(tour, encoding="utf-8")
    run([str(python), "-I", "tour.py"], cwd=scratch, env=dict(env, NUMBA_DISABLE_JIT="1"),
        quiet=True)
    info = run([str(memsim_cmd), "info", "paper_2x4x2"], cwd=scratch, env=env)
    if "network 'paper_2x4x2': 8 nodes, 16 edges" not in info:
        fail("memsim info paper_2x4x2 printed something else")
    measured = run([str(python), "-I", "-c", MEASURED], cwd=scratch,
                   env=dict(env, NUMBA_DISABLE_JIT="1"), quiet=True).strip()
    if not Path(measured).resolve().is_relative_to(venv.resolve()):
        fail(f"the measured presets were read from {measured}, not from the installed package")
    version = run([str(memsim_cmd), "--version"], cwd=scratch, env=env, quiet=True).strip()
    if version != f"memsim {probe['version']}":
        fail(f"memsim --version says {version!r}")
    t_end = time.perf_counter()
    counts = ", ".join(f"{len(v)} {k}" for k, v in probe["files"].items())
    print(f"wheel check passed: {wheels[0].name} and {sdists[0].name} ({counts}); "
          f"build {t_build - t0:.0f} s, clean install {t_install - t_build:.0f} s, "
          f"tour and CLI {t_end - t_install:.0f} s")
    if not args.keep:
        shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
