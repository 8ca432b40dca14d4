"""Plain-NumPy twins of the nonideality kernels (:mod:`memsim.devices.nonideal`) and the
pulse-unit kernels (:mod:`memsim.devices.pulsed`), used only by the tests. The twins that draw
random numbers make the same draws in the same order."""

from __future__ import annotations

import numpy as np

from memsim.devices.models import Model

__all__ = [
    "apply_stuck_np",
    "cycle_update_np",
    "drift_states_np",
    "noisy_conductances_np",
    "pulse_conductance_np",
    "pulse_response_np",
    "pulse_step_np",
    "quantize_states_np",
    "spread_devices_np",
    "stuck_codes_np",
]


def spread_devices_np(params, x0, memristors, r_sigma, x0_sigma, rng):
    p, x = np.array(params, float), np.array(x0, float)
    n = len(memristors)
    if r_sigma > 0:
        f = np.exp(r_sigma * np.array([rng.standard_normal() for _ in range(n)]))
        p[memristors, 0] *= f
        p[memristors, 1] *= f
    if x0_sigma > 0:
        z = np.array([rng.standard_normal() for _ in range(n)])
        x[memristors] = np.clip(x[memristors] + x0_sigma * z, 0.0, 1.0)
    return p, x


def cycle_update_np(x_old, x_new, relative, absolute, rng):
    if relative <= 0 and absolute <= 0:
        return x_new
    out = np.array(x_new, float)
    for e in np.flatnonzero(np.asarray(x_new) != np.asarray(x_old)):
        d = x_new[e] - x_old[e]
        if relative > 0:
            d *= max(0.0, 1.0 + relative * rng.standard_normal())
        if absolute > 0:
            d += absolute * rng.standard_normal()
        out[e] = min(max(x_old[e] + d, 0.0), 1.0)
    return out


def stuck_codes_np(uniforms, p_on, p_off):
    u = np.asarray(uniforms)
    return np.where(u < p_on, 1, np.where(u < p_on + p_off, 2, 0)).astype(np.int64)


def apply_stuck_np(model, params, codes, r_on, r_off):
    m, p = np.array(model), np.array(params, float)
    on, off = codes == 1, codes == 2
    r = np.where(on, r_on if r_on > 0 else p[:, 0], r_off if r_off > 0 else p[:, 1])
    stuck = on | off
    m[stuck] = int(Model.RESISTOR)
    p[stuck] = 0.0
    p[stuck, 0] = r[stuck]
    p[stuck, 1] = r[stuck]
    return m, p


def noisy_conductances_np(g, relative, absolute, normals):
    return np.maximum(g * (1 + relative * normals[0]) + absolute * normals[1], 0.0)


def quantize_states_np(x, params, memristors, n, g_low, g_high, uniforms):
    out = np.array(x, float)
    r_on, r_off = params[memristors, 0], params[memristors, 1]
    lo = np.where(g_low > 0, g_low, 1 / r_off)
    hi = np.where(g_high > 0, g_high, 1 / r_on)
    g = 1 / (r_off - x[memristors] * (r_off - r_on))
    if n <= 1:
        level = lo
    else:
        step = (hi - lo) / (n - 1)
        t = (g - lo) / step
        j = np.floor(t)
        frac = t - j
        up = (np.asarray(uniforms) < frac) if len(uniforms) == len(memristors) and \
            len(memristors) else frac >= 0.5
        j = np.clip(j + up, 0, n - 1)
        level = lo + j * step
    out[memristors] = np.clip((r_off - 1 / level) / (r_off - r_on), 0.0, 1.0)
    return out


def drift_states_np(x, params, memristors, t, t0, nu):
    out = np.array(x, float)
    if t <= t0:
        return out
    r_on, r_off = params[memristors, 0], params[memristors, 1]
    g = 1 / (r_off - x[memristors] * (r_off - r_on)) * (t / t0) ** (-np.asarray(nu))
    out[memristors] = np.clip((r_off - 1 / g) / (r_off - r_on), 0.0, 1.0)
    return out


def pulse_step_np(x, direction, p):
    from memsim.devices.pulsed import P_GDOWN, P_GUP, P_KDOWN, P_KUP, P_LAW, P_P

    y = min(max(x, 0.0), 1.0)
    if p[P_LAW] == 0:
        d = p[P_KUP] * (1 - y) ** p[P_GUP] if direction > 0 else -p[P_KDOWN] * y ** p[P_GDOWN]
    else:
        e = 2 * p[P_P]
        d = p[P_KUP] * (1 - y ** e) if direction > 0 else -p[P_KDOWN] * (1 - (1 - y) ** e)
    return min(max(y + d, 0.0), 1.0) - y


def pulse_conductance_np(x, p):
    from memsim.devices.pulsed import P_GMAX, P_GMIN, P_MAP

    x = np.asarray(x, float)
    if p[P_MAP] == 0:
        r_on, r_off = 1 / p[P_GMAX], 1 / p[P_GMIN]
        return 1 / (r_off - x * (r_off - r_on))
    return p[P_GMIN] + x * (p[P_GMAX] - p[P_GMIN])


def pulse_response_np(x0, direction, n, p, noise):
    from memsim.devices.pulsed import P_WN, P_WNS

    out, x = np.empty(n), x0
    for k in range(n):
        x = x + pulse_step_np(x, direction, p)
        s = p[P_WN] + p[P_WNS] * x
        if s > 0:
            x = min(max(x + s * noise[k], 0.0), 1.0)
        out[k] = x
    return out
