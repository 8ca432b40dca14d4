"""Fit files: what ``memsim fit --write NAME`` stores in ``measurements/``.

A fit file is TOML: ``[fit]`` says what was fitted to which data and how well; ``[device]``
is the fitted device (per-cycle parameters at their median), readable as the preset
``"measured:NAME"``; ``[series]`` the series resistor of the measured cell; ``[jacobian]``
and ``[bootstrap]`` 95 % intervals ``[low, high]``; ``[per_cycle]`` the values of every
cycle. Pulse-response fits hold ``[pulse]`` (a :class:`~memsim.devices.pulsed.PulseDevice`)
instead of ``[device]``. Files are written whole to a temporary name and renamed, so an
interrupted write leaves no half file behind.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from memsim.devices.measured import device_from_table, fit_path, load_fit, measurements_path
from memsim.devices.models import Device, Window
from memsim.devices.pulsed import PulseDevice
from memsim.errors import ParameterError
from memsim.measure.cells import cells
from memsim.measure.iv import IVFit

__all__ = ["StoredFit", "check_name", "dataset_of", "fit_document", "load_iv_fit", "load_pulse_fit",
           "pulse_document", "to_toml", "write_fit"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        f = float(v)
        if not math.isfinite(f):
            return '"inf"' if f > 0 else ('"-inf"' if f < 0 else '"nan"')
        return repr(f)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple | np.ndarray):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} to TOML")


def to_toml(doc: Mapping[str, Mapping[str, Any]], comments: Mapping[str, str] | None = None
            ) -> str:
    """TOML text of a document of tables of plain values (numbers, strings, lists).

    >>> print(to_toml({"fit": {"name": "x", "nrms": [0.5, 1.0]}}), end="")
    [fit]
    name = "x"
    nrms = [0.5, 1.0]
    """
    out: list[str] = []
    for table, body in doc.items():
        if out:
            out.append("")
        note = (comments or {}).get(table)
        out.append(f"[{table}]" + (f"  # {note}" if note else ""))
        for key, v in body.items():
            out.append(f"{key} = {_value(v)}")
    return "\n".join(out) + "\n"


def _device_table(device: Device) -> dict[str, Any]:
    table: dict[str, Any] = {"model": device.model.name.lower()}
    for f in dataclasses.fields(device):
        v = getattr(device, f.name)
        table[f.name] = v.name.lower() if isinstance(v, Window) else float(v)
    return table


def fit_document(fit: IVFit, name: str, *, dataset: str, data: list[str], command: str
                 ) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The tables (and table comments) of an I-V fit's file."""
    from memsim import __version__

    fixed = [f.name for f in dataclasses.fields(fit.spec.template)
             if f.name not in {p.name for p in fit.spec.free}]
    doc: dict[str, dict[str, Any]] = {
        "fit": {
            "name": name, "kind": "iv", "model": fit.model, "dataset": dataset, "data": data,
            "command": command, "memsim_version": __version__,
            "created": datetime.date.today().isoformat(),
            "time_per_point": fit.time_per_point, "substeps": fit.substeps,
            "n_cycles": len(fit.sweeps), "n_points": fit.n_points, "n_params": fit.n_params,
            "nrms_median": float(np.median(fit.nrms)), "nrms_max": float(fit.nrms.max()),
            "aic": fit.aic, "bic": fit.bic, "covariance_inflation": fit.inflation,
            "n_bootstrap": fit.n_bootstrap, "fixed": fixed,
            "not_identified": [n for n in fit.values if n not in fit.identified],
        },
        "device": _device_table(fit.device()),
    }
    if fit.r_series is not None:
        doc["series"] = {"r": float(fit.r_series), "fitted": fit.series_fitted}
    doc["jacobian"] = {k: [iv.low, iv.high] for k, iv in fit.jacobian.items()}
    if fit.bootstrap:
        doc["bootstrap"] = {k: [iv.low, iv.high] for k, iv in fit.bootstrap.items()}
    doc["per_cycle"] = {**{k: list(map(float, a)) for k, a in fit.per_cycle.items()},
                        "nrms": list(map(float, fit.nrms)),
                        "source": [Path(s.source).name for s in fit.sweeps]}
    comments = {
        "fit": "written by memsim fit; the numbers below are measured, not chosen",
        "device": f"the preset measured:{name} (per-cycle values at their median)",
        "series": "the measured cell's series element (1T1R: the access transistor)",
        "jacobian": "95 % intervals from the Jacobian (covariance inflated for correlated "
                    "residuals)",
        "bootstrap": "95 % percentile intervals over cycles resampled with replacement",
        "per_cycle": "the fitted values of every cycle",
    }
    return doc, comments


def check_name(name: str) -> None:
    """Check a fit name (lower-case letters, digits and ``_``, starting with a letter).

    Raises
    ------
    ParameterError
        For any other name.
    """
    if not _NAME.match(name):
        raise ParameterError("name", f"a fit name is lower-case letters, digits and _ "
                             f"starting with a letter (e.g. lea_1t1r_vteam), got {name!r}")


def dataset_of(paths: list[str], root: Path | None = None) -> tuple[str, list[str]]:
    """The dataset folder of ``measurements/`` that holds the data files, and their paths
    relative to it; ``("local", absolute paths)`` for data kept elsewhere."""
    base = (measurements_path() if root is None else Path(root)).resolve()
    resolved = [Path(p).resolve() for p in paths]
    try:
        rel = [p.relative_to(base) for p in resolved]
    except ValueError:
        return "local", [str(p) for p in resolved]
    tops = {r.parts[0] for r in rel}
    if len(tops) != 1 or any(len(r.parts) < 2 for r in rel):
        return "local", [str(p) for p in resolved]
    top = tops.pop()
    return top, [str(Path(*r.parts[1:])) for r in rel]


def write_fit(doc: dict[str, dict[str, Any]], comments: Mapping[str, str], name: str, *,
              dataset: str, root: Path | None = None, overwrite: bool = True) -> Path:
    """Write a fit file to ``measurements/<dataset>/fits/<name>.toml`` (atomically).

    Raises
    ------
    ParameterError
        For a bad name, or a name another dataset's fit already uses.
    """
    check_name(name)
    base = measurements_path() if root is None else Path(root)
    target = base / dataset / "fits" / f"{name}.toml"
    others = [p for p in base.glob(f"*/fits/{name}.toml") if p.resolve() != target.resolve()]
    if others:
        raise ParameterError("name", f"the fit name {name!r} is taken by {others[0]}; choose "
                             "another (names are unique across datasets)")
    if target.exists() and not overwrite:
        raise ParameterError("name", f"{target} exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".toml.tmp")
    tmp.write_text(to_toml(doc, comments), encoding="utf-8")
    os.replace(tmp, target)
    return target


@dataclass(frozen=True)
class StoredFit:
    """An I-V fit read back from its file (see the module docstring).

    Attributes
    ----------
    name, model : str
    device_table : dict, the ``[device]`` table
    per_cycle : dict of (C,) arrays
    r_series : float or None, ohm
    meta : dict, the ``[fit]`` table
    jacobian, bootstrap : dict of [low, high]
    path : Path
    """

    name: str
    model: str
    device_table: dict[str, Any]
    per_cycle: dict[str, np.ndarray]
    r_series: float | None
    meta: dict[str, Any]
    jacobian: dict[str, list[float]]
    bootstrap: dict[str, list[float]]
    path: Path

    def device(self, cycle: int | None = None) -> Device:
        """The fitted device: of one cycle, or (default) the stored preset."""
        table = dict(self.device_table)
        if cycle is not None:
            for k, a in self.per_cycle.items():
                if k in table:
                    table[k] = float(a[cycle])
        return device_from_table(table, f"{self.path} [device]")

    def cell(self, cycle: int | None = None):  # -> Network
        """The device behind its series resistor, as a one-cell network."""
        return cells([self.device(cycle)], self.r_series, name=f"{self.name}_cell")


def load_iv_fit(name: str, root: Path | None = None) -> StoredFit:
    """Read the stored I-V fit ``name``.

    >>> f = load_iv_fit("lea_1t1r_vteam")
    >>> f.model, f.meta["n_cycles"], f.r_series is not None
    ('vteam', 19, True)

    Raises
    ------
    ParameterError
        If there is no such fit, or it is not an I-V fit.
    """
    doc = load_fit(name, root)
    meta = doc.get("fit", {})
    if meta.get("kind") != "iv" or "device" not in doc:
        raise ParameterError("name", f"measured fit {name!r} is not an I-V fit (kind "
                             f"{meta.get('kind')!r})")
    per = {k: np.asarray(v, float) for k, v in doc.get("per_cycle", {}).items()
           if k not in ("nrms", "source")}
    series = doc.get("series", {}).get("r")
    return StoredFit(name, str(meta.get("model")), dict(doc["device"]), per,
                     None if series is None else float(series), dict(meta),
                     dict(doc.get("jacobian", {})), dict(doc.get("bootstrap", {})),
                     fit_path(name, root))


def pulse_document(fit: Any, name: str, *, dataset: str, data: list[str], command: str
                   ) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The tables (and table comments) of a pulse-response fit's file (a
    :class:`~memsim.measure.pulse.PulseFit`)."""
    from memsim import __version__

    dev = fit.device
    doc: dict[str, dict[str, Any]] = {
        "fit": {
            "name": name, "kind": "pulse", "model": fit.model, "dataset": dataset,
            "data": data, "command": command, "memsim_version": __version__,
            "created": datetime.date.today().isoformat(), "n_ramps": len(fit.ramps),
            "n_pulses": fit.n_points, "n_params": fit.n_params, "nrms": fit.nrms,
            "aic": fit.aic, "bic": fit.bic,
        },
        "pulse": {f.name: getattr(dev, f.name) for f in dataclasses.fields(dev)},
        "jacobian": {k: [iv.low, iv.high] for k, iv in fit.jacobian.items()},
    }
    if fit.bootstrap:
        doc["bootstrap"] = {k: [iv.low, iv.high] for k, iv in fit.bootstrap.items()}
    doc["noise"] = {
        "g_low": [b.g_low for b in fit.noise], "g_high": [b.g_high for b in fit.noise],
        "n": [b.n for b in fit.noise], "step": [b.step for b in fit.noise],
        "write": [b.write for b in fit.noise], "read": [b.read for b in fit.noise],
        "relative": [b.relative for b in fit.noise],
    }
    comments = {
        "fit": "written by memsim fit; the numbers below are measured, not chosen",
        "pulse": "the PulseDevice (pulse units); load it with memsim.measure.load_pulse_fit",
        "jacobian": "95 % intervals from the Jacobian",
        "bootstrap": "95 % percentile intervals over ramps resampled with replacement",
        "noise": "write (states/pulse) and read noise in conductance bins of equal count",
    }
    return doc, comments


def load_pulse_fit(name: str, root: Path | None = None) -> tuple[PulseDevice, dict[str, Any]]:
    """The pulse device of the stored pulse-response fit ``name``, and its ``[fit]`` table.

    >>> dev, meta = load_pulse_fit("crosssim_pulse_window")
    >>> dev.mapping, meta["n_ramps"]
    ('resistive', 79)

    Raises
    ------
    ParameterError
        If there is no such fit, or it is not a pulse-response fit.
    """
    doc = load_fit(name, root)
    meta = doc.get("fit", {})
    if meta.get("kind") != "pulse" or "pulse" not in doc:
        raise ParameterError("name", f"measured fit {name!r} is not a pulse-response fit "
                             f"(kind {meta.get('kind')!r})")
    return PulseDevice(**doc["pulse"]), dict(meta)
