"""Named device presets. Each is an instance of a parameter set and says where it comes from.

Where a source gives the model form but not numbers fitted to a device, the numbers are
memsim's illustrative choice and the citation says so.
"""

from __future__ import annotations

from memsim.devices.measured import measured_device
from memsim.devices.models import HP, VTEAM, Device, Linear, Threshold, Window
from memsim.errors import ParameterError

__all__ = ["MEASURED", "PRESETS", "preset"]

MEASURED = "measured:"
"""Prefix of the presets fitted to measured data (``"measured:lea_1t1r_vteam"``)."""

PRESETS: dict[str, tuple[Device, str]] = {
    "strukov2008": (
        HP(r_on=100.0, r_off=16e3, mu_v=1e-14, d=10e-9, window=Window.NONE, x0=0.1),
        "Strukov, Snider, Stewart, Williams, Nature 453, 80 (2008): R_on = 100 ohm, "
        "R_off/R_on = 160, D = 10 nm, mu_v = 1e-10 cm^2/(V s); no window.",
    ),
    "biolek2009": (
        HP(r_on=100.0, r_off=16e3, mu_v=1e-14, d=10e-9, window=Window.BIOLEK, p=2.0, x0=0.1),
        "Biolek, Biolek, Biolkova, Radioengineering 18, 210 (2009): the Strukov device with "
        "the Biolek window; p = 2 is memsim's choice.",
    ),
    "pershin2011": (
        Threshold(r_on=1e3, r_off=10e3, alpha=0.0, beta=1e6, v_t=1.0, x0=0.5),
        "Pershin & Di Ventra, PRE 84, 046703 (2011) and arXiv:1204.2600 (model form, as in "
        "ngspice's XSPICE memristor); numbers are memsim's: 1-10 kohm, 1 V threshold, "
        "full swing in about 9 ms at 1 V over threshold.",
    ),
    "vteam2015": (
        VTEAM(r_on=1e3, r_off=10e3, k_on=10.0, k_off=10.0, v_on=-0.3, v_off=0.3,
              alpha_on=3.0, alpha_off=3.0, x0=0.5),
        "Kvatinsky, Ramadan, Friedman, Kolodny, IEEE TCAS-II 62, 786 (2015) (model form); "
        "illustrative numbers chosen by memsim.",
    ),
    "caravelli2017": (
        Linear(r_on=100.0, r_off=10e3, alpha=0.0, beta=10.0, x0=0.5),
        "Caravelli, Traversa, Di Ventra, PRE 95, 022140 (2017): linear memristor; "
        "R_off/R_on = 100 and beta = 10 V s are memsim's choice.",
    ),
}


def preset(name: str) -> Device:
    """The device preset called ``name``; ``"measured:NAME"`` is the device fitted to measured
    data and stored as ``NAME`` in ``measurements/`` (:mod:`memsim.devices.measured`).

    >>> preset("strukov2008").r_off
    16000.0
    >>> preset("measured:lea_1t1r_vteam").model.name
    'VTEAM'

    Raises
    ------
    ParameterError
        If there is no preset of that name.
    """
    if name.startswith(MEASURED):
        return measured_device(name[len(MEASURED):])
    try:
        return PRESETS[name][0]
    except KeyError:
        raise ParameterError(
            "preset", f"unknown preset {name!r}; known: {', '.join(sorted(PRESETS))}, or "
            f"{MEASURED}NAME for a fit in measurements/"
        ) from None
