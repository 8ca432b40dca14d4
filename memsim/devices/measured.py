"""Devices fitted to measured data, stored as TOML files in ``measurements/``.

``measurements/<dataset>/fits/<NAME>.toml`` holds one fit written by ``memsim fit ... --write
NAME`` (:mod:`memsim.measure`). Its ``[device]`` table is a device preset: use it as
``preset = "measured:NAME"`` in a circuit file or ``memsim.devices.preset("measured:NAME")``.
Fit names are unique across datasets.

:func:`measurements_path` is the one place that says where the folder is, so an installed
package can point it elsewhere.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from pathlib import Path
from typing import Any

from memsim.devices.models import Device, Model, Window, model_class
from memsim.errors import ParameterError
from memsim.resources import data_dir

__all__ = ["ENVIRONMENT", "fit_path", "load_fit", "measured_device", "measured_names",
           "measurements_path"]

ENVIRONMENT = "MEMSIM_MEASUREMENTS"
"""Environment variable that overrides the measurements folder (tests, private data)."""


def measurements_path() -> Path:
    """The folder of measured datasets and their fits.

    ``$MEMSIM_MEASUREMENTS`` if set, else the shipped ``measurements/`` folder
    (:func:`memsim.resources.data_dir`: the installed package's copy, or the source checkout's).

    >>> measurements_path().name
    'measurements'
    """
    env = os.environ.get(ENVIRONMENT)
    if env:
        return Path(env)
    return data_dir("measurements")


def measured_names(root: Path | None = None) -> list[str]:
    """Names of all stored fits, sorted.

    >>> "lea_1t1r_vteam" in measured_names()
    True
    """
    base = measurements_path() if root is None else Path(root)
    return sorted(p.stem for p in base.glob("*/fits/*.toml"))


def fit_path(name: str, root: Path | None = None) -> Path:
    """The file of the fit called ``name``.

    Raises
    ------
    ParameterError
        If no fit has that name, or two datasets hold one of that name.
    """
    base = measurements_path() if root is None else Path(root)
    hits = sorted(base.glob(f"*/fits/{name}.toml"))
    if not hits:
        known = ", ".join(measured_names(base)) or "none"
        raise ParameterError("preset", f"no measured fit {name!r} in {base} (known: {known}); "
                             "write one with `memsim fit DATA --model MODEL --write NAME`")
    if len(hits) > 1:
        raise ParameterError("preset", f"measured fit {name!r} exists in several datasets: "
                             f"{', '.join(str(h) for h in hits)}; rename one")
    return hits[0]


def load_fit(name: str, root: Path | None = None) -> dict[str, Any]:
    """The parsed TOML of a stored fit.

    Raises
    ------
    ParameterError
        If there is no such fit or the file is not valid TOML.
    """
    path = fit_path(name, root)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ParameterError("preset", f"cannot read {path}: {exc}") from None


def device_from_table(table: dict[str, Any], where: str = "[device]") -> Device:
    """A device from a table with ``model`` and the parameter set's fields (SI units).

    >>> device_from_table({"model": "threshold", "r_on": 1e3, "r_off": 1e4}).v_t
    1.0

    Raises
    ------
    ParameterError
        For an unknown model or field, or an invalid value.
    """
    fields = dict(table)
    name = str(fields.pop("model", ""))
    try:
        cls = model_class(Model[name.upper()])
    except KeyError:
        known = ", ".join(m.name.lower() for m in Model if m != Model.OPEN)
        raise ParameterError("model", f"{where}: unknown model {name!r}; use {known}") from None
    allowed = {f.name for f in dataclasses.fields(cls)}
    for key in fields:
        if key not in allowed:
            raise ParameterError(key, f"{where}: not a field of {cls.__name__} "
                                 f"({', '.join(sorted(allowed))})")
    values = {k: (Window[v.upper()] if k == "window" and isinstance(v, str) else v)
              for k, v in fields.items()}
    return cls(**values)


def measured_device(name: str, root: Path | None = None) -> Device:
    """The fitted device of the stored fit ``name`` (its ``[device]`` table).

    >>> measured_device("lea_1t1r_vteam").model.name
    'VTEAM'

    Raises
    ------
    ParameterError
        If there is no such fit, or it holds no time-domain device (a pulse-response fit is
        in pulse units: load it with :func:`memsim.measure.load_pulse_fit`).
    """
    doc = load_fit(name, root)
    if "device" not in doc:
        kind = doc.get("fit", {}).get("kind", "?")
        raise ParameterError("preset", f"measured fit {name!r} (kind {kind!r}) has no [device] "
                             "table; a pulse-response fit is in pulse units, load it with "
                             "memsim.measure.load_pulse_fit")
    return device_from_table(doc["device"], f"{fit_path(name, root)} [device]")
