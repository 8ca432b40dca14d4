"""Files that ship with memsim: circuits, sweeps, measured device data, searches.

The repository keeps them in top-level folders (``circuits/``, ``sweeps/``,
``measurements/``, ``searches/``), where people edit them. A wheel carries copies inside the
package, under ``memsim/_data/<kind>/`` (``setup.py`` copies every file of those folders at
build time, so a new file needs no packaging change). :func:`data_path` finds them in either
place: the package's own copy when it has one (an installed wheel), else the folder of the
source checkout memsim is imported from (an editable install, or ``PYTHONPATH``).

One lookup for every kind: :func:`memsim.circuit_path`, :func:`memsim.sweep.sweep_path` and
the measured-data loaders call :func:`data_path`; a new kind of shipped file is one more
entry of :data:`KINDS`.

>>> data_path("circuits", "paper_2x4x2").name
'paper_2x4x2.toml'
>>> "paper_2x4x2" in data_names("circuits")
True
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from memsim.errors import CircuitFileError

__all__ = ["KINDS", "data_dir", "data_names", "data_path", "find_file"]

KINDS: tuple[str, ...] = ("circuits", "sweeps", "measurements", "searches")
"""The folders that ship with memsim (``setup.py`` reads this tuple to fill the wheel)."""

PACKAGE_FOLDER = "_data"
"""The folder inside the installed package that holds the wheel's copies."""


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise CircuitFileError(kind, f"no kind of shipped file named {kind!r}; kinds: "
                               f"{', '.join(KINDS)}")


def data_dir(kind: str) -> Path:
    """The folder that holds the shipped files of ``kind`` (one of :data:`KINDS`).

    Raises
    ------
    CircuitFileError
        For an unknown kind, or when neither the installed package nor the source checkout
        has that folder.
    """
    _check_kind(kind)
    package = Path(str(files("memsim")))
    installed = package / PACKAGE_FOLDER / kind
    if installed.is_dir():
        return installed
    checkout = package.parent
    # A checkout has pyproject.toml beside the package; site-packages does not (so a foreign
    # site-packages/circuits is never taken for memsim's).
    if (checkout / "pyproject.toml").is_file() and (checkout / kind).is_dir():
        return checkout / kind
    raise CircuitFileError(installed, f"memsim ships no {kind}/ folder in this installation "
                           "(reinstall memsim, or run it from a source checkout)")


def data_names(kind: str) -> list[str]:
    """Names :func:`data_path` accepts for ``kind``: the stems of its ``.toml`` files and the
    names of its subfolders (a measured dataset is a folder), sorted.

    Raises
    ------
    CircuitFileError
        As :func:`data_dir`.
    """
    root = data_dir(kind)
    names = {p.stem for p in root.glob("*.toml")}
    names |= {p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    return sorted(names)


def data_path(kind: str, name: str | None = None) -> Path:
    """Path of the shipped file or folder ``name`` of ``kind``; its folder if ``name`` is None.

    ``name`` is a file or subfolder name (``"paper_2x4x2.toml"``, a dataset folder) or a
    ``.toml`` file's stem (``"paper_2x4x2"``).

    Raises
    ------
    CircuitFileError
        If there is no such file (the message lists the known names), or as :func:`data_dir`.

    Examples
    --------
    >>> data_path("sweeps", "demo").name
    'demo.toml'
    """
    root = data_dir(kind)
    if name is None:
        return root
    if Path(name).name == name and name not in (".", ".."):  # no paths out of the folder
        for candidate in (root / name, root / f"{name}.toml"):
            if candidate.exists():
                return candidate
    raise CircuitFileError(root / name, f"{name!r} is not among the {kind} shipped with "
                           f"memsim; known: {', '.join(data_names(kind))}")


def find_file(kind: str, spec: str | Path) -> Path:
    """The file a command-line argument names: an existing path, else a shipped file's name.

    ``spec`` is taken as a shipped name only when no such file exists and it looks like a
    name (no folder, suffix ``.toml`` or none), so a local file always wins.

    Raises
    ------
    CircuitFileError
        If ``spec`` is neither an existing file nor a shipped name (the message lists them).

    Examples
    --------
    >>> find_file("circuits", "wheatstone").name
    'wheatstone.toml'
    """
    path = Path(spec)
    if path.exists() or path.suffix.lower() not in ("", ".toml") or path.name != str(spec):
        return path
    try:
        return data_path(kind, path.stem + ".toml")
    except CircuitFileError as exc:
        known = str(exc).rpartition("known: ")[2]
        raise CircuitFileError(path, f"no such file, nor one of the {kind} shipped with memsim "
                               f"(known: {known})") from None
