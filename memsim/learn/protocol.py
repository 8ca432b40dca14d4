"""The learning protocol and the devices: scaling it to a device's threshold, and refusing a
protocol that cannot switch any device.

The defaults of :class:`~memsim.learn.CircuitConfig` were chosen for ``pershin2011`` threshold
devices (1 V threshold). A measured device switches at another voltage and rate (the 1T1R
ReRAM of ``measured:lea_1t1r_threshold``: 0.19 V), so the same pulses would either never move
it or write it on every read. :func:`protocol_for` maps the protocol onto a threshold device by
similarity: every voltage times the ratio of thresholds (reads stay below threshold, writes are
as far over it in proportion), every write duration times the ratio of state rates at
corresponding voltages (a write moves a device by the same fraction of its range).
:func:`check_switching` is what :func:`memsim.learn.train` runs first.
"""

from __future__ import annotations

import weakref

import numpy as np

from memsim.circuit.network import Network
from memsim.devices.kernels import rate
from memsim.devices.models import Device, Model, Threshold
from memsim.errors import ParameterError
from memsim.learn.config import CircuitConfig

__all__ = ["check_switching", "protocol_for"]

# the write voltages each network has been found to switch at (a network is frozen, so the
# answer does not change; train() asks on every call, and a sweep calls it thousands of times)
_SWITCHES: weakref.WeakKeyDictionary[Network, set[tuple[float, ...]]] = \
    weakref.WeakKeyDictionary()


def _reference() -> Threshold:
    from memsim.devices import preset

    device = preset("pershin2011")
    assert isinstance(device, Threshold)
    return device


def protocol_for(device: Device, base: CircuitConfig | None = None, *,
                 reference: Device | None = None) -> CircuitConfig:
    """``base`` (default ``CircuitConfig()``) scaled from the ``reference`` threshold device
    (default the ``pershin2011`` preset the defaults were chosen for) to ``device``.

    Voltages (read, inhibition, normalization) are multiplied by ``k = v_t / v_t_ref``; the
    inhibition and normalization durations by ``rate_ref(v) / rate(k v)``, the ratio of the
    state rates at corresponding device voltages (evaluated at ``v = 2 v_t_ref``; for the
    threshold law, linear over threshold with ``dx/dt = beta (v - v_t) / (r_off - r_on)``, it is
    ``beta_ref (r_off - r_on) / (k beta (r_off_ref - r_on_ref))`` whatever ``v``). The
    read duration, noise, pruning and budgets are kept.

    Raises
    ------
    ParameterError
        If ``device`` or ``reference`` is not a :class:`~memsim.devices.Threshold` device
        (other laws have no single threshold to scale by), or a threshold or rate is zero.

    Examples
    --------
    >>> from memsim.devices import preset
    >>> c = protocol_for(preset("measured:lea_1t1r_threshold"))
    >>> round(c.v_inhibit, 3), round(c.v_read, 3), round(c.t_inhibit * 1e3, 2)
    (-0.873, 0.097, 26.67)
    """
    base = CircuitConfig() if base is None else base
    reference = _reference() if reference is None else reference
    for name, d in (("device", device), ("reference", reference)):
        if not isinstance(d, Threshold):
            raise ParameterError(name, f"protocol scaling needs a Threshold device (one "
                                 f"threshold v_t), got {type(d).__name__}; set the "
                                 f"CircuitConfig voltages and durations by hand")
        if d.v_t <= 0 or d.beta <= 0:
            raise ParameterError(name, f"v_t and beta must be positive to scale a protocol, "
                                 f"got v_t={d.v_t!r} V, beta={d.beta!r}")
    assert isinstance(device, Threshold) and isinstance(reference, Threshold)
    k = device.v_t / reference.v_t
    v = 2.0 * reference.v_t
    r_ref = rate(int(Model.THRESHOLD), 0.5, v, reference.row())
    r_dev = rate(int(Model.THRESHOLD), 0.5, k * v, device.row())
    time = float(r_ref / r_dev)
    return base.replace(v_read=base.v_read * k, v_inhibit=base.v_inhibit * k,
                        v_normalize=base.v_normalize * k, t_inhibit=base.t_inhibit * time,
                        t_normalize=base.t_normalize * time)


def check_switching(net: Network, config: CircuitConfig) -> None:
    """Refuse a protocol whose write pulses cannot move any memristor of ``net``.

    The most voltage a device can see in a pulse is the whole bias (no node lies outside the
    terminal voltages), so if every distinct device of the network has a zero state rate at
    ``v_inhibit`` (and, if normalization is on, at ``v_normalize``), training could never
    change anything; it would only count mistakes.

    Raises
    ------
    ParameterError
        Naming ``v_inhibit`` or ``v_normalize``, the device's threshold and the fix
        (:func:`protocol_for`).

    Examples
    --------
    >>> import memsim
    >>> net = memsim.layered([2, 2], device=memsim.devices.preset("pershin2011"))
    >>> check_switching(net, CircuitConfig())
    >>> try:
    ...     check_switching(net, CircuitConfig(v_inhibit=-0.9))
    ... except ParameterError as exc:
    ...     print(str(exc)[:55])
    v_inhibit: a -0.9 V pulse cannot switch any device of '
    """
    checks = [("v_inhibit", config.v_inhibit)]
    if config.v_normalize > 0 and config.t_normalize > 0:
        checks.append(("v_normalize", config.v_normalize))
    key = tuple(float(v) for _, v in checks)
    known = _SWITCHES.setdefault(net, set())
    if key in known:
        return
    mem = np.flatnonzero(net.memristive)
    if mem.size == 0:
        return
    e = int(mem[0])  # the usual case, settled by one device
    row = np.ascontiguousarray(net.params[e], dtype=float)
    if all(rate(int(net.model[e]), 0.5, float(v), row) != 0.0 for _, v in checks):
        known.add(key)
        return
    rows = np.unique(np.column_stack([net.model[mem], net.params[mem]]), axis=0)
    for name, v in checks:
        if all(rate(int(r[0]), 0.5, float(v), np.ascontiguousarray(r[1:])) == 0.0
               for r in rows):
            thresholds = sorted({float(r[1 + 4]) for r in rows
                                 if int(r[0]) == int(Model.THRESHOLD)})
            hint = f" (threshold {', '.join(f'{t:.3g}' for t in thresholds)} V)" \
                if thresholds else ""
            raise ParameterError(name, f"a {v:g} V pulse cannot switch any device of "
                                 f"{net.name!r}{hint}; scale the protocol to the device with "
                                 f"memsim.learn.protocol_for(device) or raise |{name}|")
    known.add(key)
