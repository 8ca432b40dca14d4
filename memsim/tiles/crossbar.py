"""A weight matrix held in a simulated memristive crossbar: differential pairs, exact reads,
writes through the device law.

Layout: an ``n_in x 2 n_out`` crossbar (:func:`memsim.crossbar`, word lines driven at the
left, bit lines sensed at the bottom); column ``2 j`` holds the G+ device of output ``j``,
column ``2 j + 1`` its G- partner, so both see the same word-line IR drop. Weights are
``W = w_max (G+ - G-) / (1/R_on - 1/R_off)`` with the nominal device's window.

Reads. An input ``x`` becomes word-line voltages ``v_read * x / x_max`` (DAC), the crossbar
is solved with its line resistance (:func:`memsim.solve.dc.solve_currents`: the structured
crossbar solver, terminal currents only, no node voltages), and the bit-line currents of
each pair are subtracted, scaled to rule units, given read noise and quantized (ADC). Reads
stay below the devices' thresholds (checked), so between writes the crossbar is a fixed
linear resistor network and ``currents = volts @ T`` exactly, ``T`` (n_in, 2 n_out) being
the currents for unit inputs. The tile solves the inputs it is given until, since the last
write, the vectors it has solved would have paid for ``T``: as many as it has rows (``T`` by
unit solves), or :func:`~memsim.solve.crossbar.map_batch` of them where the crossbar's
exact terminal map (:mod:`memsim.solve.crossbar.transfer`) is cheaper (hard contrast: slow
iteration); then it computes ``T`` once and reads by matrix products until the next write
(never more than twice the work of the cheaper choice). Both agree with a direct solve to
~1e-12 of the largest edge current; with ideal lines ``T`` is the conductance matrix itself.

Writes. A desired ``dW`` is split evenly over a pair (G+ up by half, G- down by half),
turned into whole programming pulses (:class:`~memsim.tiles.config.TileConfig` ``counting``
and ``rounding``) and applied with the ``scheme``'s voltages, each pulse integrated through
the device rate law (:func:`memsim.tiles.pulses.integrate_pulses`): bounds, asymmetry,
state-dependent steps and cycle-to-cycle noise are what the law and the pulse widths make of
it. Lines are ideal during writes (the drivers are taken to hold the programming voltages).
Initial weights are programmed exactly (write-verify) around the reference conductance
``1/sqrt(R_on R_off)``, where one pulse's conductance step is one ``levels``-th of the window
(pairs whose difference does not fit around it are moved up until G- sits at 1/R_off).
"""

from __future__ import annotations

import numpy as np

from memsim.circuit import Network, crossbar
from memsim.devices.kernels import conductances, rates, states_for_conductances
from memsim.devices.models import N_PARAMS
from memsim.devices.nonideal import STUCK_OFF, STUCK_ON, StuckFaults
from memsim.devices.retention import relax_conductances, retention_factor
from memsim.devices.spread import d2d_factors
from memsim.errors import ParameterError
from memsim.solve.crossbar import map_batch
from memsim.solve.dc import solve_currents
from memsim.tiles.base import WeightStats, as_batch
from memsim.tiles.config import TileConfig
from memsim.tiles.pulses import integrate_pulses, pulse_train

__all__ = ["CrossbarTile"]

SeedLike = int | np.random.SeedSequence | None


class CrossbarTile:
    """A :class:`~memsim.tiles.WeightStore` on a simulated memristive crossbar.

    Parameters
    ----------
    w0 : array (n_in, n_out)
        Initial weights in rule units, programmed exactly (clipped to what the devices hold).
    config : TileConfig
        Devices, lines, periphery, write scheme (default: the ``rram64`` preset).
    seed : int or SeedSequence
        Seeds device spread, faults, pulse rounding and noise, and read noise (one child
        sequence each): same seed, same run.
    cells : array (n_in, 2 n_out, N_PARAMS), optional
        Packed parameter rows of every device, of ``config.device``'s model (a measured fit,
        a spread of its own); replaces the nominal rows before ``config.d2d`` is applied.

    Attributes
    ----------
    stats : WeightStats
    network : Network
        The read crossbar (device states in :attr:`states`).
    width : float
        Programming pulse width in seconds.

    Raises
    ------
    ParameterError
        For bad weights or cells, devices that a read would move (no threshold above
        ``v_read``), or a ``v_write`` that does not switch the device both ways.

    Examples
    --------
    >>> import numpy as np
    >>> from memsim.tiles import CrossbarTile, TileConfig
    >>> tile = CrossbarTile(np.array([[0.5, -0.25]]), TileConfig(r_line=0.0), seed=0)
    >>> tile.read(np.array([[1.0]])).round(12).tolist()
    [[0.5, -0.25]]
    >>> tile.update(np.array([[0.1, 0.1]]))
    >>> bool(tile.stats.pulses > 0)
    True
    """

    def __init__(self, w0: np.ndarray, config: TileConfig | None = None, *, seed: SeedLike,
                 cells: np.ndarray | None = None):
        cfg = TileConfig() if config is None else config
        w0 = np.array(w0, dtype=float)
        if w0.ndim != 2 or w0.size == 0 or not np.isfinite(w0).all():
            raise ParameterError("w0", f"need a finite 2-D weight matrix, got shape {w0.shape}")
        self.config = cfg
        self.n_in, self.n_out = w0.shape
        cols = 2 * self.n_out
        ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        spread, faults, writes, reads = (np.random.default_rng(s) for s in ss.spawn(4))
        self._write_rng, self._read_rng = writes, reads

        nominal = cfg.device.row()
        code = int(cfg.device.model)
        params = self._cells(cells, nominal, cols)
        if cfg.d2d > 0:  # the device-level spread (DeviceSpread.r_sigma), one definition
            params[:, :2] *= d2d_factors(cfg.d2d, params.shape[0], spread)[:, None]
        self._params = params
        self._model = np.full(params.shape[0], code, dtype=np.int64)
        self._nominal = np.broadcast_to(nominal, params.shape).copy()
        self._check_reads()

        g_min, g_max = 1.0 / nominal[1], 1.0 / nominal[0]
        self.g_window = g_max - g_min
        self.g_ref = float(np.sqrt(g_min * g_max))
        x_ref = float(states_for_conductances(nominal, np.array(self.g_ref)))
        self.set_sign, r_set = self._set_polarity(x_ref)
        self.width = 1.0 / (cfg.levels * r_set)

        net = crossbar(self.n_in, cols, device=cfg.device, r_line=cfg.r_line)
        assert net.layout is not None
        self._dev = np.asarray(net.layout.device).ravel()
        full = net.params.copy()
        full[self._dev] = params
        self.network: Network = net.with_params(full)

        codes = StuckFaults(cfg.stuck_on, cfg.stuck_off).draw(params.shape[0], faults)
        self._stuck_on: np.ndarray = codes == STUCK_ON
        self._stuck_off: np.ndarray = codes == STUCK_OFF
        self._stuck: np.ndarray = self._stuck_on | self._stuck_off
        d = np.clip(w0, -cfg.w_max, cfg.w_max) / cfg.w_max * self.g_window
        centre = np.maximum(self.g_ref, g_min + np.abs(d) / 2)  # both devices inside
        target = np.empty((self.n_in, cols))
        target[:, 0::2] = centre + d / 2
        target[:, 1::2] = centre - d / 2
        self._x = self._pinned(states_for_conductances(params, target.ravel()))
        self.stats = WeightStats()
        self._transfer: tuple[np.ndarray, np.ndarray] | None = None
        self._direct = 0  # vectors solved directly since the last write

    # ------------------------------------------------------------------ set-up
    def _cells(self, cells: np.ndarray | None, nominal: np.ndarray, cols: int) -> np.ndarray:
        n = self.n_in * cols
        if cells is None:
            return np.broadcast_to(nominal, (n, N_PARAMS)).copy()
        cells = np.array(cells, dtype=float)
        if cells.shape != (self.n_in, cols, N_PARAMS) or not np.isfinite(cells).all():
            raise ParameterError("cells", f"need finite rows of shape ({self.n_in}, {cols}, "
                                 f"{N_PARAMS}), got {cells.shape}")
        cells = cells.reshape(n, N_PARAMS)
        if not (cells[:, 0] > 0).all() or not (cells[:, 0] < cells[:, 1]).all():
            raise ParameterError("cells", "every cell needs 0 < R_on < R_off (columns 0, 1)")
        return cells

    def _check_reads(self) -> None:
        """Reads must not write: the rate law vanishes at +-v_read for every device."""
        v = self.config.v_read
        for x in (0.0, 0.5, 1.0):
            for sign in (1.0, -1.0):
                xs = np.full(self._model.shape, x)
                r = rates(self._model, xs, np.full(xs.shape, sign * v), self._params)
                if np.any(r != 0.0):
                    raise ParameterError(
                        "v_read", f"{v:g} V moves the devices (no threshold above it): reads "
                        "would write; use a threshold device (Threshold, VTEAM) or a lower "
                        "v_read")

    def _set_polarity(self, x_ref: float) -> tuple[float, float]:
        """Sign of the voltage that raises the conductance, and the state rate it gives."""
        v = self.config.v_write
        row = self._nominal[:1]
        code = self._model[:1]
        up, down = (float(rates(code, np.array([x_ref]), np.array([s * v]), row)[0])
                    for s in (1.0, -1.0))
        if up > 0 > down:
            return 1.0, up
        if down > 0 > up:
            return -1.0, down
        raise ParameterError("v_write", f"+-{v:g} V must switch the device ON one way and OFF "
                             "the other; raise v_write above the thresholds")

    def _pinned(self, x: np.ndarray) -> np.ndarray:
        x = x.copy()
        x[self._stuck_on] = 1.0
        x[self._stuck_off] = 0.0
        return x

    # ------------------------------------------------------------------ the WeightStore
    @property
    def shape(self) -> tuple[int, int]:
        return self.n_in, self.n_out

    @property
    def states(self) -> np.ndarray:
        """Device states (n_in, 2 n_out), columns alternating G+ / G- (a copy)."""
        return self._x.reshape(self.n_in, 2 * self.n_out).copy()

    def conductances(self) -> np.ndarray:
        """Device conductances in siemens (n_in, 2 n_out)."""
        g = conductances(self._model, self._x, self._params)
        return g.reshape(self.n_in, 2 * self.n_out)

    def weights(self) -> np.ndarray:
        """The programmed weights ``w_max (G+ - G-) / window`` (n_in, n_out), device by
        device; what a read computes with ideal lines (see :meth:`transfer` for the IR drop)."""
        g = self.conductances()
        return self.config.w_max * (g[:, 0::2] - g[:, 1::2]) / self.g_window

    def network_state(self) -> np.ndarray:
        """Edge states of :attr:`network` (E,), the device states in their cells."""
        x = self.network.x0.copy()
        x[self._dev] = self._x
        return x

    @property
    def _scale(self) -> float:
        """Rule units per ampere of pair current difference."""
        cfg = self.config
        return cfg.w_max * cfg.x_max / (cfg.v_read * self.g_window)

    def transfer(self) -> np.ndarray:
        """The exact linear map a read applies before noise and ADC (n_in, n_out), rule
        units: the weights as the crossbar's IR drop leaves them."""
        t, _ = self._transfer_matrix()
        return (t[:, 0::2] - t[:, 1::2]) * self._scale * self.config.v_read / self.config.x_max

    def read(self, x: np.ndarray) -> np.ndarray:
        """``x @ W`` through DAC, the crossbar solve, read noise and ADC: (B, n_in) ->
        (B, n_out)."""
        cfg = self.config
        x = as_batch(x, self.n_in)
        volts = cfg.v_read / cfg.x_max * _quantize(x, cfg.x_max, cfg.dac_bits)
        live = np.flatnonzero(np.any(volts != 0.0, axis=1))
        out = np.zeros((x.shape[0], 2 * self.n_out))
        if live.size:
            cur, power = self._currents(volts[live])
            out[live] = cur
            self.stats.read_energy += float(power.sum()) * cfg.t_read
        y = (out[:, 0::2] - out[:, 1::2]) * self._scale
        if cfg.read_noise > 0:
            y += cfg.read_noise * cfg.w_max * cfg.x_max * self._read_rng.normal(size=y.shape)
        if cfg.adc_bits is not None:
            y = _quantize(y, cfg.adc_range, cfg.adc_bits)
        self.stats.reads += x.shape[0]
        return y

    def _currents(self, volts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bit-line currents (B, 2 n_out) and the power of each read (B,)."""
        if self.config.r_line == 0:
            g = self.conductances()
            return volts @ g, (volts * volts) @ g.sum(axis=1)
        # Reads are solved one batch at a time until the vectors since the last write would
        # have paid for the transfer matrix: n_in unit solves, or the exact terminal map.
        solved = self._direct + volts.shape[0]
        if self._transfer is None and solved < self.n_in and solved < self._map_batch():
            i_out, i_in = solve_currents(self.network, volts.T, state=self.network_state())
            self._direct += volts.shape[0]
            self.stats.solves += volts.shape[0]
            return i_out.T, np.sum(volts * i_in.T, axis=1)
        t, y = self._transfer_matrix()
        return volts @ t, np.sum(volts * (volts @ y), axis=1)

    def _map_batch(self) -> float:
        """The terminal map's cost in vectors solved (:func:`~memsim.solve.crossbar.map_batch`):
        where it is below ``n_in``, :func:`~memsim.solve.dc.solve_currents` of the unit inputs
        computes ``T`` by the map."""
        g = self.conductances()
        seg = np.full_like(g, 1.0 / self.config.r_line)
        return map_batch(g, seg, seg)

    def _transfer_matrix(self) -> tuple[np.ndarray, np.ndarray]:
        """Bit-line currents (n_in, 2 n_out) and input currents (n_in, n_in, the input
        admittance matrix) for one volt on each word line in turn."""
        if self.config.r_line == 0:
            g = self.conductances()
            return g, np.diag(g.sum(axis=1))
        if self._transfer is None:
            i_out, i_in = solve_currents(self.network, np.eye(self.n_in),
                                         state=self.network_state())
            self.stats.solves += self.n_in
            self._transfer = (i_out.T.copy(), i_in.T.copy())
        return self._transfer

    def update(self, dw: np.ndarray) -> None:
        """Ask for ``W += dw``: programming pulses through the device law (module notes).

        Raises
        ------
        ParameterError
            If ``dw`` is not finite or not of shape (n_in, n_out).
        """
        dw = np.asarray(dw, dtype=float)
        if dw.shape != self.shape or not np.isfinite(dw).all():
            raise ParameterError("dw", f"need a finite update of shape {self.shape}, got "
                                 f"{dw.shape}")
        half = dw / self.config.w_max * self.g_window / 2
        want = np.empty((self.n_in, 2 * self.n_out))
        want[:, 0::2] = half
        want[:, 1::2] = -half
        counts, up = self._pulse_counts(want.ravel())
        if self.config.scheme == "device":
            self._write_devices(counts, up)
        else:
            self._write_half_select(counts, up)
        self._transfer = None
        self._direct = 0
        self.stats.updates += 1

    def relax(self, seconds: float) -> None:
        """Leave the tile alone for ``seconds``: volatile devices (``config.retention_tau``)
        relax towards the reference conductance (:mod:`memsim.devices.retention`), so every
        weight keeps ``exp(-seconds / tau)`` of itself; stuck devices and non-volatile tiles
        do not move. No pulses: this is the devices' own retention loss.

        Raises
        ------
        ParameterError
            If ``seconds`` is negative or not finite.
        """
        f = retention_factor(seconds, self.config.retention_tau)
        if f == 1.0:
            return
        g = conductances(self._model, self._x, self._params)
        g = relax_conductances(g, self.g_ref, seconds, self.config.retention_tau)
        free = ~self._stuck
        self._x[free] = states_for_conductances(self._params[free], g[free])
        self._transfer = None
        self._direct = 0

    # ------------------------------------------------------------------ writes
    def _pulse_counts(self, want: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Whole pulses per device (E,) and whether they raise the conductance (E,)."""
        cfg = self.config
        up = want > 0
        n = np.zeros(want.shape)
        todo = np.flatnonzero((want != 0) & ~self._stuck)
        if todo.size:
            if cfg.counting == "nominal":
                n[todo] = np.abs(want[todo]) / (self.g_window / cfg.levels)
            else:
                nom = self._nominal[todo]
                g = conductances(self._model[todo], self._x[todo], self._params[todo])
                x_now = states_for_conductances(nom, g)
                x_goal = states_for_conductances(nom, g + want[todo])
                v = self._volts(up[todo], 1.0)
                x_one, _ = integrate_pulses(self._model[todo], nom, x_now, v,
                                            np.full(todo.size, self.width), cfg.substeps)
                step = x_one - x_now
                ok = step != 0
                n[todo[ok]] = np.maximum((x_goal - x_now)[ok] / step[ok], 0.0)
        counts = np.zeros(want.shape, np.int64)
        if todo.size:
            part = n[todo]
            if cfg.rounding == "stochastic":
                whole = np.floor(part)
                part = whole + (self._write_rng.random(todo.size) < part - whole)
            counts[todo] = np.rint(part)
        return counts, up

    def _volts(self, up: np.ndarray, fraction: float) -> np.ndarray:
        """Device voltage of a (fraction of a) pulse raising (up) or lowering G."""
        return np.where(up, 1.0, -1.0) * self.set_sign * fraction * self.config.v_write

    def _widths(self, n: int) -> np.ndarray:
        if self.config.c2c == 0:
            return np.full(n, self.width)
        jitter = 1.0 + self.config.c2c * self._write_rng.normal(size=n)
        return self.width * np.maximum(jitter, 0.0)

    def _pulse(self, idx: np.ndarray, v: np.ndarray) -> None:
        """One pulse of voltages ``v`` on devices ``idx`` (stuck ones do not move)."""
        free = ~self._stuck[idx]
        idx, v = idx[free], v[free]
        if not idx.size:
            return
        x, e = integrate_pulses(self._model[idx], self._params[idx], self._x[idx], v,
                                self._widths(idx.size), self.config.substeps)
        self._x[idx] = x
        self.stats.write_energy += float(e.sum())

    def _write_devices(self, counts: np.ndarray, up: np.ndarray) -> None:
        """Per-device writes: device k gets ``counts[k]`` pulses; nobody else sees a volt."""
        idx = np.flatnonzero((counts > 0) & ~self._stuck)
        if not idx.size:
            return
        n = np.ascontiguousarray(counts[idx])
        x, e = pulse_train(self._model[idx], self._params[idx], self._x[idx],
                           self._volts(up[idx], 1.0), n, self._widths(int(n.sum())),
                           self.config.substeps)
        self._x[idx] = x
        self.stats.pulses += int(n.sum())
        self.stats.write_energy += float(e.sum())

    def _write_half_select(self, counts: np.ndarray, up: np.ndarray) -> None:
        """The V/2 scheme, row by row and polarity by polarity (see TileConfig.scheme)."""
        cols = 2 * self.n_out
        counts = counts.reshape(self.n_in, cols)
        up = up.reshape(self.n_in, cols)
        for i in np.flatnonzero(counts.max(axis=1) > 0):
            for raise_g in (True, False):
                need = np.where(up[i] == raise_g, counts[i], 0)
                for k in range(int(need.max())):
                    sel = np.flatnonzero(need > k)
                    v = np.zeros((self.n_in, cols))
                    half = float(self._volts(np.array([raise_g]), 0.5)[0])
                    v[:, sel] = half  # word 0 V, selected bit line at -half
                    v[i, :] = half  # selected word line at +half, unselected bit lines 0 V
                    v[i, sel] = 2 * half
                    idx = np.flatnonzero(v.ravel())
                    self.stats.pulses += sel.size
                    self.stats.half_selected += idx.size - sel.size
                    self._pulse(idx, v.ravel()[idx])


def _quantize(a: np.ndarray, full_scale: float, bits: int | None) -> np.ndarray:
    """Clip to ``[-full_scale, full_scale]`` and, given ``bits``, round to the signed grid of
    ``2**(bits - 1) - 1`` steps per sign."""
    a = np.clip(a, -full_scale, full_scale)
    if bits is None:
        return a
    steps = 2 ** (bits - 1) - 1
    return np.rint(a / full_scale * steps) * (full_scale / steps)
