"""Sphinx configuration of memsim's documentation site (``make docs``).

Why Sphinx: memsim's docstrings are numpydoc reStructuredText with Sphinx roles
(``:func:``, ``:class:``, ``:mod:``), so Sphinx renders them as written and turns the roles
into links; autosummary builds the API reference from each package's ``__all__``; myst-nb
shows the notebooks with their stored outputs and lets the prose pages be Markdown.

Before the build this file writes (all git-ignored): one page per package of
``api/packages.txt`` listing its ``__all__``, copies of ``notebooks/*.ipynb`` and of
``benchmarks/*.md``, and the ``memsim --help`` text.
"""

import importlib
import shutil
import subprocess
import sys
import types
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

import memsim  # noqa: E402

project = "memsim"
author = "memsim developers"
copyright = "2026, memsim developers"  # noqa: A001 (Sphinx's name)
release = version = memsim.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "api/packages.txt"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

# API pages: autosummary makes one page per listed name; numpydoc renders the sections.
autosummary_generate = True
autodoc_default_options = {"members": False}
autodoc_typehints = "none"  # numpydoc's Parameters sections say the types
numpydoc_show_class_members = False  # methods are documented on the class page itself
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# Notebooks are shown with the outputs stored in them: tests/test_notebooks.py executes them.
nb_execution_mode = "off"
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

html_theme = "pydata_sphinx_theme"
html_title = f"memsim {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
html_static_path: list[str] = []


def _home(obj: object, packages: list[str]) -> str | None:
    """The documented package that defines ``obj`` (the longest prefix of its module)."""
    module = getattr(obj, "__module__", None) or ""
    homes = [p for p in packages if module == p or module.startswith(p + ".")]
    return max(homes, key=len) if homes else None


def _package_page(name: str, packages: list[str]) -> str:
    """reST of one package: its docstring, then an autosummary of its ``__all__``. A class
    is documented once, in the package that defines it; other packages that re-export it
    (``memsim.Network``) link there."""
    module = importlib.import_module(name)
    own, linked = [], []
    for n in sorted(module.__all__, key=str.lower):
        obj = getattr(module, n)
        if isinstance(obj, types.ModuleType):
            continue  # a subpackage: its own page
        home = _home(obj, packages) if isinstance(obj, type) else None
        (linked if home not in (None, name) else own).append((n, home))
    lines = [name, "=" * len(name), "", f".. automodule:: {name}", "   :no-members:", "",
             f".. currentmodule:: {name}", "", ".. autosummary::", "   :toctree: .",
             "   :nosignatures:", ""]
    lines += [f"   {n}" for n, _ in own]
    if linked:
        lines += ["", f"Also here (``{name}.NAME`` is the class documented at the link):", ""]
        lines += [f"* :class:`{name}.{n} <{home}.{n}>`" for n, home in linked]
    return "\n".join(lines) + "\n"


def _write_generated() -> None:
    api = DOCS / "api" / "generated"
    shutil.rmtree(api, ignore_errors=True)
    api.mkdir(parents=True)
    packages = [line.strip() for line in (DOCS / "api" / "packages.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    for name in packages:
        (api / f"{name}.rst").write_text(_package_page(name, packages), encoding="utf-8")
    (api / "toc.rst.inc").write_text(  # included by api/index.rst
        ".. toctree::\n   :maxdepth: 1\n\n" + "".join(f"   generated/{n}\n" for n in packages),
        encoding="utf-8")
    for folder, pattern in (("notebooks", "*.ipynb"), ("benchmarks", "*.md")):
        target = DOCS / "_copied" / folder
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for path in sorted((ROOT / folder).glob(pattern)):
            shutil.copy2(path, target / path.name)
    help_text = subprocess.run([sys.executable, "-m", "memsim.cli", "--help"],
                               capture_output=True, text=True, check=True).stdout
    (DOCS / "_copied" / "memsim_help.txt").write_text(help_text, encoding="utf-8")


_write_generated()
