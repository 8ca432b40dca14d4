"""The measured datasets shipped in ``measurements/``, by name.

Each folder holds the data as copied from its source, the source's license, a citation and a
README saying what is measured and what is not. :func:`dataset` gives a :class:`Dataset` whose
methods read its parts with :mod:`memsim.measure.readers`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from memsim.devices.measured import measurements_path
from memsim.errors import ParameterError
from memsim.measure.readers import (
    ConductanceMap,
    IVSweep,
    LevelDistribution,
    PulseRamp,
    RetentionSeries,
    natural_key,
    read_distribution,
    read_iv_cycles,
    read_map,
    read_pulse_columns,
    read_pulse_ramps,
    read_retention,
)

__all__ = ["DATASETS", "Dataset", "dataset"]


@dataclass(frozen=True)
class Dataset:
    """A dataset folder of ``measurements/`` and where its parts are.

    Attributes
    ----------
    name : str
        The folder's name.
    kind : str
        What ``memsim fit NAME`` fits by default: ``"iv"`` or ``"pulse"``.
    title : str
    parts : dict
        Relative file patterns of the parts it has (``reset``, ``set``, ``retention``,
        ``map``, ``levels``, ``pulse_set``, ``pulse_reset``, ``pulse_pair``).
    """

    name: str
    kind: str
    title: str
    parts: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return measurements_path() / self.name

    def _part(self, part: str) -> str:
        if part not in self.parts:
            raise ParameterError("part", f"dataset {self.name!r} has no {part!r} data (it has "
                                 f"{', '.join(self.parts)})")
        return self.parts[part]

    def files(self, part: str) -> list[Path]:
        """The files of one part, in natural order."""
        return sorted(self.path.glob(self._part(part)), key=lambda p: natural_key(str(p)))

    def reset_cycles(self) -> tuple[IVSweep, ...]:
        """The RESET-branch I-V cycles."""
        return read_iv_cycles(str(self.path / self._part("reset")))

    def set_cycles(self) -> tuple[IVSweep, ...]:
        """The SET-branch I-V cycles (shaped by the access transistor: see the README)."""
        return read_iv_cycles(str(self.path / self._part("set")))

    def retention(self) -> tuple[RetentionSeries, ...]:
        """The retention series, one per programmed level."""
        return tuple(read_retention(p) for p in self.files("retention"))

    def conductance_map(self) -> ConductanceMap:
        return read_map(self.files("map")[0])

    def levels(self) -> tuple[LevelDistribution, ...]:
        """The per-level conductance distributions."""
        return tuple(read_distribution(p) for p in self.files("levels"))

    def pulse_ramps(self) -> tuple[PulseRamp, ...]:
        """The pulse ramps in the order they were applied."""
        if "pulse_pair" in self.parts:
            return read_pulse_columns(self.files("pulse_pair")[0])
        up = read_pulse_ramps(self.files("pulse_set")[0], +1)
        down = read_pulse_ramps(self.files("pulse_reset")[0], -1)
        out: list[PulseRamp] = []
        for k in range(max(len(up), len(down))):  # SET k, then RESET k (they join end to start)
            out += [r[k] for r in (up, down) if k < len(r)]
        return tuple(out)


DATASETS: dict[str, Dataset] = {
    "adamlab_lea_1t1r_rram": Dataset(
        "adamlab_lea_1t1r_rram", "iv",
        "1T1R ReRAM (NIST Daffodil; Yousuf et al., Nat. Commun. 2025)",
        {"reset": "data/figure_3/c/iv_positive_cycle*.txt",
         "set": "data/figure_3/c/iv_negative_cycle*.txt",
         "retention": "data/figure_3/b/retention_grouped_state*.txt",
         "map": "data/figure_3/d/conductance_map_multibit_k17.txt",
         "levels": "data/figure_3/e/conductance_hist_multibit_k17_state*.txt"},
    ),
    "crosssim_v2_lookup_example_pulse": Dataset(
        "crosssim_v2_lookup_example_pulse", "pulse",
        "read current after each pulse, 39 SET + 40 RESET ramps (Sandia CrossSim v2.0 example)",
        {"pulse_set": "set.csv", "pulse_reset": "reset.csv"},
    ),
    "aihwkit_gong_hfo2_pulse": Dataset(
        "aihwkit_gong_hfo2_pulse", "pulse",
        "HfO2 ReRAM, 1000 up + 1000 down pulses, normalized (Gong et al., Nat. Commun. 2018)",
        {"pulse_pair": "gong_et_al.csv"},
    ),
}
"""The shipped datasets, by folder name."""


def dataset(name: str) -> Dataset:
    """The shipped dataset called ``name``.

    >>> dataset("aihwkit_gong_hfo2_pulse").kind
    'pulse'

    Raises
    ------
    ParameterError
        For an unknown name.
    """
    try:
        return DATASETS[name]
    except KeyError:
        raise ParameterError("dataset", f"unknown dataset {name!r}; shipped: "
                             f"{', '.join(DATASETS)}") from None
