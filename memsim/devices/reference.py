"""Plain-NumPy twins of the numba kernels, used only by the tests to check them."""

from __future__ import annotations

import numpy as np

from memsim.devices.models import Model, Window

__all__ = ["conductances_np", "drift_np", "drift_slope_np", "rates_np"]


def _window_np(code: np.ndarray, x: np.ndarray, direction: np.ndarray, p: np.ndarray) -> np.ndarray:
    stp = (direction <= 0).astype(float)
    return np.select(
        [code == Window.NONE, code == Window.JOGLEKAR, code == Window.BIOLEK],
        [np.ones_like(x), 1 - (2 * x - 1) ** (2 * p), 1 - (x - stp) ** (2 * p)],
        1 - ((x - 0.5) ** 2 + 0.75) ** p,
    )


def conductances_np(model: np.ndarray, x: np.ndarray, params: np.ndarray) -> np.ndarray:
    r_on, r_off = params[:, 0], params[:, 1]
    g = 1.0 / (r_off - x * (r_off - r_on))
    g = np.where(model == Model.RESISTOR, 1.0 / r_on, g)
    return np.where(model == Model.OPEN, 0.0, g)


def drift_np(model: np.ndarray, x: np.ndarray, v: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Twin of :func:`memsim.devices.kernels.drift` over all edges (no bound rule)."""
    p = params
    i = v * conductances_np(model, x, params)
    with np.errstate(all="ignore"):
        hp = p[:, 2] * i * _window_np(p[:, 3].astype(int), x, i, p[:, 4])
        vt = p[:, 4]
        f = p[:, 3] * v + 0.5 * (p[:, 2] - p[:, 3]) * (np.abs(v + vt) - np.abs(v - vt))
        f = np.where(np.abs(v) <= vt, p[:, 2] * v, f)  # exact below threshold, as the kernel
        thr = f / (p[:, 1] - p[:, 0])
        w = p[:, 8].astype(int)
        one = np.ones_like(x)
        on = p[:, 2] * np.abs(v / p[:, 4] - 1) ** p[:, 6] * _window_np(w, x, one, p[:, 9])
        off = -p[:, 3] * np.abs(v / p[:, 5] - 1) ** p[:, 7] * _window_np(w, x, -one, p[:, 9])
        vteam = np.where(v < p[:, 4], on, np.where(v > p[:, 5], off, 0.0))
        lin = -p[:, 2] * (1 - x) + p[:, 0] * i / p[:, 3]
    return np.select(
        [model == Model.HP, model == Model.THRESHOLD, model == Model.VTEAM, model == Model.LINEAR],
        [hp, thr, vteam, lin],
        0.0,
    )


def drift_slope_np(model: np.ndarray, x: np.ndarray, v: np.ndarray,
                   params: np.ndarray) -> np.ndarray:
    """Twin of :func:`memsim.devices.kernels.drift_slope` over all edges."""
    dv = 1e-6 * np.maximum(1.0, np.abs(v))
    numeric = np.abs(drift_np(model, x, v + dv, params) - drift_np(model, x, v - dv, params))
    numeric /= 2 * dv
    slope = np.where(np.abs(v) > params[:, 4], params[:, 3], params[:, 2])
    with np.errstate(all="ignore"):
        thr = np.abs(slope / (params[:, 1] - params[:, 0]))
    return np.where(model == Model.THRESHOLD, thr, numeric)


def rates_np(model: np.ndarray, x: np.ndarray, v: np.ndarray, params: np.ndarray) -> np.ndarray:
    r = drift_np(model, x, v, params)
    pushing_out = ((x >= 1) & (r > 0)) | ((x <= 0) & (r < 0))
    return np.where(pushing_out, 0.0, r)
