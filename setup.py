"""Build hook: ship the data folders of the repository inside the wheel.

Everything else is declared in pyproject.toml. The folders named by ``KINDS`` in
memsim/resources.py (circuits/, sweeps/, measurements/, searches/) sit at the top of the
repository, where people edit them; the wheel carries a copy of every file in them under
memsim/_data/, where :func:`memsim.data_path` finds them after ``pip install``. Editable
installs need no copy: there memsim reads the folders of the checkout.
"""

import ast
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def shipped_kinds() -> tuple[str, ...]:
    """``KINDS`` of memsim/resources.py, read without importing memsim."""
    tree = ast.parse((ROOT / "memsim" / "resources.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "KINDS":
            return tuple(ast.literal_eval(node.value))
    raise RuntimeError("memsim/resources.py defines no KINDS")


class BuildWithData(build_py):
    """build_py that also copies the data folders into the build tree."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / "memsim" / "_data"
        for kind in shipped_kinds():
            source = ROOT / kind
            if source.is_dir():
                shutil.copytree(source, target / kind, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns(".*", "__pycache__"))


setup(cmdclass={"build_py": BuildWithData})
