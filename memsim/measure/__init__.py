"""Measured devices: read data, fit device models to it, estimate nonidealities.

* :mod:`~memsim.measure.readers` read I-V sweeps, pulse responses, retention series and
  conductance maps, strictly (bad data: a :class:`~memsim.errors.MeasurementError` naming the
  file and line).
* :mod:`~memsim.measure.datasets`: the datasets shipped in ``measurements/``.
* :mod:`~memsim.measure.iv` fits HP, VTEAM and threshold models to I-V cycles through
  memsim's transient, with a series resistor for 1T1R cells, Jacobian and bootstrap
  intervals, nRMS and AIC/BIC.
* :mod:`~memsim.measure.pulse` fits rate laws in pulse units to pulse-number responses, with
  the cycle-to-cycle and read noise as functions of conductance.
* :mod:`~memsim.measure.statistics` estimates device-level nonidealities (spread, stuck
  devices, read noise, levels, drift) from maps, distributions and retention series.
* :mod:`~memsim.measure.store` writes fits to ``measurements/<dataset>/fits/NAME.toml``,
  readable as the device preset ``"measured:NAME"``.

Examples
--------
>>> import memsim.measure as mm
>>> cycles = mm.dataset("adamlab_lea_1t1r_rram").reset_cycles()
>>> len(cycles), cycles[0].label
(19, 'iv_positive_cycle1')
"""

from memsim.devices.measured import measured_names, measurements_path
from memsim.measure.cells import cell, cells
from memsim.measure.datasets import DATASETS, Dataset, dataset
from memsim.measure.iv import Interval, IVFit, fit_iv, simulate_sweeps
from memsim.measure.models import MODELS, ModelSpec, model_spec
from memsim.measure.pulse import PULSE_MODELS, NoiseBin, PulseFit, fit_pulses
from memsim.measure.readers import (
    ConductanceMap,
    IVSweep,
    LevelDistribution,
    PulseRamp,
    RetentionSeries,
    read_distribution,
    read_iv,
    read_iv_cycles,
    read_map,
    read_pulse_columns,
    read_pulse_ramps,
    read_retention,
)
from memsim.measure.statistics import measured_nonidealities
from memsim.measure.store import StoredFit, load_iv_fit, load_pulse_fit, write_fit

__all__ = [
    "DATASETS",
    "MODELS",
    "PULSE_MODELS",
    "ConductanceMap",
    "Dataset",
    "IVFit",
    "IVSweep",
    "Interval",
    "LevelDistribution",
    "ModelSpec",
    "NoiseBin",
    "PulseFit",
    "PulseRamp",
    "RetentionSeries",
    "StoredFit",
    "cell",
    "cells",
    "dataset",
    "fit_iv",
    "fit_pulses",
    "load_iv_fit",
    "load_pulse_fit",
    "measured_names",
    "measured_nonidealities",
    "measurements_path",
    "model_spec",
    "read_distribution",
    "read_iv",
    "read_iv_cycles",
    "read_map",
    "read_pulse_columns",
    "read_pulse_ramps",
    "read_retention",
    "simulate_sweeps",
    "write_fit",
]
