"""Per-device parameter arrays: many devices of one model without one object per device.

A crossbar of a million cells, each with its own R_on, R_off or initial state, is described by
a template device and arrays of the fields that vary (:func:`device_array`); builders such as
:func:`memsim.crossbar` take the result as their ``device`` and copy the packed rows into the
network in one step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from memsim.devices.models import N_PARAMS, Device, Window, packed_rows
from memsim.errors import ParameterError

__all__ = ["DeviceArray", "device_array", "device_rows"]


@dataclass(frozen=True, eq=False)
class DeviceArray:
    """Packed parameters of ``size`` devices, in the form a network stores them.

    Attributes
    ----------
    model : ndarray of int64, (n,)
        :class:`~memsim.devices.Model` code of each device.
    params : ndarray of float64, (n, N_PARAMS)
        Packed parameter rows (see :func:`~memsim.devices.models.packed_rows`).
    x0 : ndarray of float64, (n,)
        Initial states (0 for resistors).
    """

    model: np.ndarray
    params: np.ndarray
    x0: np.ndarray

    @property
    def size(self) -> int:
        return int(self.model.shape[0])


def _shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    dims = (int(shape),) if isinstance(shape, int | np.integer) else tuple(int(s) for s in shape)
    if any(s < 0 for s in dims):
        raise ParameterError("shape", f"sizes must be >= 0, got {dims}")
    return dims


def device_array(template: Device, shape: int | Sequence[int], **fields: object) -> DeviceArray:
    """``prod(shape)`` devices like ``template``, with the given fields set per device.

    Parameters
    ----------
    template : Device
        Supplies the model and every field not given.
    shape : int or tuple of int
        Number (or array shape) of devices; arrays are read in row-major (C) order, so a
        ``(rows, cols)`` array gives cell (i, j) of a crossbar.
    **fields : float or array
        Values of the template's numeric fields (e.g. ``r_on``, ``r_off``, ``x0``), each a
        scalar or an array that broadcasts to ``shape``. ``window`` can only be one value.

    Returns
    -------
    DeviceArray

    Raises
    ------
    ParameterError
        Naming the field: an unknown field, an array of the wrong shape, a non-finite value,
        a value the template's class rejects (checked at the smallest and largest value, as
        every field's allowed values form an interval), or a device with R_on >= R_off.

    Examples
    --------
    >>> import numpy as np, memsim
    >>> from memsim.devices import HP, device_array
    >>> states = np.array([[0.0, 0.5], [1.0, 0.25]])
    >>> cells = device_array(HP(r_on=100.0, r_off=1e4), states.shape, x0=states)
    >>> net = memsim.crossbar(2, 2, device=cells, r_line=1.0)
    >>> net.x0[net.layout.device].tolist()
    [[0.0, 0.5], [1.0, 0.25]]
    """
    dims = _shape(shape)
    n = math.prod(dims)
    values = template.values()
    arrays: dict[str, np.ndarray] = {}
    for name, value in fields.items():
        if name not in values:
            raise ParameterError(name, f"{type(template).__name__} has no field {name!r}; its "
                                 f"fields are {', '.join(values)}")
        a = np.asarray(value, dtype=float)  # type: ignore[call-overload]
        if name == "window" and a.ndim:
            raise ParameterError("window", "one window for all devices of an array; give a "
                                 "single value")
        try:
            a = np.broadcast_to(a, dims).ravel()
        except ValueError:
            raise ParameterError(name, f"needs an array of shape {dims} (or one that "
                                 f"broadcasts to it), got shape {a.shape}") from None
        if not np.isfinite(a).all():
            raise ParameterError(name, "values must be finite")
        arrays[name] = a
    if "r_on" in values and ("r_on" in arrays or "r_off" in arrays):
        on = arrays.get("r_on", values["r_on"]) * np.ones(n)
        off = arrays.get("r_off", values["r_off"]) * np.ones(n)
        bad = np.flatnonzero(on >= off)
        if bad.size:
            k = int(bad[0])
            raise ParameterError("r_on", f"R_on ({on[k]:g} ohm) must be below R_off "
                                 f"({off[k]:g} ohm) for every device; device {k} is not")
    if n and arrays:
        # Every field's allowed values form an interval and R_on < R_off holds per device, so
        # the field-wise minima and maxima pass the class's own checks iff all devices do.
        for pick in (np.min, np.max):
            extreme = {k: float(pick(a)) for k, a in arrays.items()}
            if "window" in extreme:
                extreme["window"] = Window(int(extreme["window"]))  # type: ignore[assignment]
            template.replace(**extreme)
    merged: dict[str, float | np.ndarray] = {**values, **arrays}
    x0 = (np.broadcast_to(np.asarray(merged["x0"], float), (n,)).copy() if template.memristive
          and "x0" in merged else np.zeros(n))
    return DeviceArray(np.full(n, int(template.model), np.int64),
                       packed_rows(template.model, merged, n), x0)


def device_rows(devices: Sequence[Device]) -> DeviceArray:
    """The packed form of a sequence of device objects, one class at a time (no per-device
    row is built, so a million devices pack in well under a second).

    >>> from memsim.devices import Resistor
    >>> device_rows([Resistor(1.0), Resistor(2.0)]).params[:, 0].tolist()
    [1.0, 2.0]
    """
    n = len(devices)
    model = np.empty(n, np.int64)
    params = np.empty((n, N_PARAMS))
    x0 = np.empty(n)
    classes: dict[type[Device], list[int]] = {}
    for k, d in enumerate(devices):
        if not isinstance(d, Device):
            raise ParameterError("device", f"expected a device parameter set, got {d!r}")
        classes.setdefault(type(d), []).append(k)
    for cls, index in classes.items():
        # the fields of each distinct object, read once (a builder given one device repeats
        # the same object on every edge)
        first: dict[int, int] = {}
        distinct: list[Device] = []
        which = np.empty(len(index), np.int64)
        for j, k in enumerate(index):
            d = devices[k]
            u = first.setdefault(id(d), len(distinct))
            if u == len(distinct):
                distinct.append(d)
            which[j] = u
        names = list(distinct[0].values())
        fields = {name: np.fromiter((float(getattr(d, name)) for d in distinct), float,
                                    len(distinct))[which] for name in names}
        idx = np.asarray(index)
        model[idx] = int(cls.model)
        params[idx] = packed_rows(cls.model, fields, len(index))
        x0[idx] = fields["x0"] if cls.memristive and "x0" in fields else 0.0
    return DeviceArray(model, params, x0)
