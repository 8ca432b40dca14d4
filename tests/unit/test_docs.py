"""The documentation's API reference lists every package (one line each in
docs/api/packages.txt), and its quick start runs as printed."""

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LISTED = [s.strip() for s in (ROOT / "docs" / "api" / "packages.txt").read_text().splitlines()
          if s.strip() and not s.startswith("#")]


def test_every_package_is_in_the_api_reference():
    packages = {"memsim"} | {
        "memsim." + ".".join(p.parent.relative_to(ROOT / "memsim").parts)
        for p in (ROOT / "memsim").rglob("__init__.py") if p.parent != ROOT / "memsim"}
    missing = sorted(packages - set(LISTED))
    assert not missing, f"add {missing} to docs/api/packages.txt"


@pytest.mark.parametrize("name", LISTED)
def test_listed_packages_declare_their_public_names(name):
    module = importlib.import_module(name)
    assert module.__all__ and all(hasattr(module, n) for n in module.__all__)


def test_quickstart_python_runs(tmp_path, monkeypatch):
    text = (ROOT / "docs" / "quickstart.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/quickstart.md", "exec"), namespace)  # noqa: S102
    assert (tmp_path / "states.png").stat().st_size > 0
    assert namespace["result"].eras  # the training ran


HOWTOS = sorted((ROOT / "docs" / "howto").glob("*.md"))


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


@pytest.mark.parametrize("path", HOWTOS, ids=lambda p: p.name)
def test_howto_python_imports_resolve(path):
    """Every ``from memsim... import a, b`` in a how-to names something that exists (the
    blocks that train or search are too long for CI; their imports must still be right)."""
    for block in _python_blocks(path):
        compile(block, str(path), "exec")
        for module, names in re.findall(r"from (memsim[\w.]*) import ([\w, ]+)", block):
            mod = importlib.import_module(module)
            for name in (n.strip() for n in names.split(",")):
                assert hasattr(mod, name), f"{path.name}: {module} has no {name}"


def test_measured_device_howto_runs():
    namespace: dict = {}
    for block in _python_blocks(ROOT / "docs" / "howto" / "measured_device.md"):
        exec(compile(block, "docs/howto/measured_device.md", "exec"), namespace)  # noqa: S102
    assert namespace["dev"].r_on < namespace["dev"].r_off
    assert namespace["net"].n_nodes >= 3  # source, series element, device
