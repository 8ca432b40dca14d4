"""What a training run returns: per-step records, per-era outcomes, the trained network."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from memsim.errors import ParameterError

__all__ = ["PHASES", "STOP_REASONS", "EraResult", "Records", "TrainResult", "wilson_interval"]

PHASES = ("read", "inhibit", "normalize")
"""Names of the columns of :attr:`Records.energy`."""

STOP_REASONS = {
    "dead_input": "a pattern's active inputs have no live device left (all pruned), so none "
                  "of its outputs carries read current",
    "no_path": "a pattern's target output has no path of live devices to its active inputs",
}
"""Values of :attr:`EraResult.stopped` and :attr:`TrainResult.stopped`, with their meaning
(see ``CircuitConfig.stop_when_dead``)."""


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (default 95 %).

    Raises
    ------
    ParameterError
        If ``trials < 1`` or ``successes`` is outside ``0 .. trials``.

    Examples
    --------
    >>> lo, hi = wilson_interval(9, 10)
    >>> round(lo, 3), round(hi, 3)
    (0.596, 0.982)
    """
    if trials < 1 or not 0 <= successes <= trials:
        raise ParameterError("successes", f"need 0 <= successes <= trials, trials >= 1; got "
                             f"{successes}/{trials}")
    p = successes / trials
    den = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / den
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class EraResult:
    """Outcome of one training era.

    Attributes
    ----------
    index : int
    learned : bool
        A full pass over all patterns without a mistake happened within the budget.
    steps_to_learn : int or None
        Steps of this era up to the end of that first clean pass.
    n_steps : int
        Steps spent in the era (``steps_to_learn`` if learned, else the budget, or fewer if
        the run was stopped early).
    n_mistakes : int
    start_step : int
        Index of the era's first step in the run's records.
    energy : float
        Joules spent in the era (all phases); NaN for the abstract model.
    stopped : str or None
        Why the era was cut short (a key of :data:`STOP_REASONS`): the run found that no
        remaining era could be learned any more and ended during (or before) this era, which
        is reported as not learned, exactly as the full budget would have ended it. None: the
        era ran normally.
    """

    index: int
    learned: bool
    steps_to_learn: int | None
    n_steps: int
    n_mistakes: int
    start_step: int
    energy: float
    stopped: str | None = None


@dataclass(frozen=True, eq=False)
class Records:
    """Per-step arrays of a training run (T steps over all eras).

    Attributes
    ----------
    pattern : (T,) int, index of the pattern presented
    winner : (T,) int, output that won the read (-1: no output carried current)
    correct : (T,) bool
    era : (T,) int
    output_currents : (T, n_out) A, read currents (None for the abstract model)
    energy : (T, 3) J dissipated per phase, columns :data:`PHASES` (None for the abstract model)
    power : (T,) W dissipated during the read (None for the abstract model)
    states : (T, E) device states after each step (only with ``record_states``)
    """

    pattern: np.ndarray
    winner: np.ndarray
    correct: np.ndarray
    era: np.ndarray
    output_currents: np.ndarray | None = None
    energy: np.ndarray | None = None
    power: np.ndarray | None = None
    states: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.pattern.shape[0])


@dataclass(frozen=True, eq=False)
class TrainResult:
    """The outcome of :func:`memsim.learn.train` or :func:`memsim.learn.train_abstract`.

    Attributes
    ----------
    learned : bool
        Every era was learned: all P patterns answered correctly in one full pass within the
        era's step budget. For a one-era task, the usual definition of "learned".
    steps_to_learn : int or None
        Total steps until the last era was learned (None unless ``learned``).
    final_accuracy : float
        Fraction of the patterns the final network maps to the last era's targets (reads
        without writes).
    n_steps : int
        Steps taken over all eras.
    pruned : (E,) bool or None
        Devices removed during training (None for the abstract model).
    pruned_at : (E,) int or None
        Step on which each device was removed (-1: never).
    eras : tuple of EraResult
    records : Records
    final_state : (E,) or None
        Device states at the end (circuit runs).
    initial_state : (E,) or None
        Device states at the start, after the per-run initial-state spread.
    params : (E, N_PARAMS) or None
        Device parameters of the run, after the per-run device-to-device spread.
    model : (E,) or None
        Device models of the run: the network's, with stuck devices as plain resistors
        (:func:`memsim.learn.device_sample`); None for the abstract model.
    weights : tuple of arrays or None
        Final weight matrices (abstract model).
    net, task, config, seed
        What was trained, how, and with which seed.
    wall_time : float
        Seconds spent in the training kernel.
    stopped : str or None
        Why the run ended before spending its budget on hopeless eras (a key of
        :data:`STOP_REASONS`, the reason of its first stopped era); None if it did not.
    """

    learned: bool
    steps_to_learn: int | None
    final_accuracy: float
    n_steps: int
    pruned: np.ndarray | None
    eras: tuple[EraResult, ...]
    records: Records
    task: Any
    config: Any
    seed: Any
    final_state: np.ndarray | None = None
    initial_state: np.ndarray | None = None
    pruned_at: np.ndarray | None = None
    params: np.ndarray | None = None
    weights: tuple[np.ndarray, ...] | None = None
    net: Any = field(default=None, repr=False)
    wall_time: float = 0.0
    stopped: str | None = None
    model: np.ndarray | None = None

    @property
    def _model(self) -> np.ndarray:
        return self.net.model if self.model is None else self.model

    @property
    def n_mistakes(self) -> int:
        return int(np.sum(~self.records.correct))

    @property
    def total_energy(self) -> float:
        """Joules dissipated over the run (NaN for the abstract model)."""
        if self.records.energy is None:
            return math.nan
        return float(self.records.energy.sum())

    def trained_network(self):  # -> Network
        """The network after training: the run's device parameters, pruned devices removed,
        final states as initial states.

        Raises
        ------
        ParameterError
            For abstract-model results (there is no circuit).
        """
        if self.net is None or self.final_state is None:
            raise ParameterError("net", "an abstract-model result has no circuit")
        net = self.net.with_params(self.params) if self.model is None else \
            self.net.replace(model=self.model, params=np.asarray(self.params, float))
        net = net.replace(x0=self.final_state)
        return net.pruned(self.pruned) if self.pruned is not None else net

    def conductances(self) -> np.ndarray:
        """Conductances (T + 1, E) in siemens: before the first step and after every step.

        Raises
        ------
        ParameterError
            If the run did not record states (``record_states=True``).
        """
        if self.records.states is None or self.net is None or self.initial_state is None:
            raise ParameterError("record_states", "train with record_states=True to get the "
                                 "conductance history")
        from memsim.devices.kernels import conductances

        xs = np.vstack([self.initial_state[None, :], self.records.states])
        out = np.stack([conductances(self._model, x, self.params) for x in xs])
        if self.pruned_at is not None:
            for e in np.flatnonzero(self.pruned_at >= 0):
                out[int(self.pruned_at[e]) + 1:, e] = 0.0  # open from the step it was cut on
        return out

    def summary(self) -> str:
        """A few lines for humans."""
        lines = [
            f"{self.task!r}: learned={self.learned} steps_to_learn={self.steps_to_learn} "
            f"final_accuracy={self.final_accuracy:.2f} steps={self.n_steps} "
            f"mistakes={self.n_mistakes}"
        ]
        for era in self.eras:
            lines.append(
                f"  era {era.index}: learned={era.learned} steps_to_learn={era.steps_to_learn} "
                f"steps={era.n_steps} mistakes={era.n_mistakes} energy={era.energy:.3g} J"
                + (f" stopped={era.stopped}" if era.stopped else "")
            )
        if self.pruned is not None:
            lines.append(f"  pruned devices: {int(self.pruned.sum())} of {self.pruned.size}")
        return "\n".join(lines)

    def plot(self, path: str | None = None) -> Any:
        """Read power per step, correctness, and (if recorded) the conductance map over time."""
        import matplotlib.pyplot as plt

        has_states = self.records.states is not None and self.net is not None
        ncol = 3 if has_states else 2
        fig, axes = plt.subplots(1, ncol, figsize=(4.5 * ncol, 3.6))
        steps = np.arange(1, len(self.records) + 1)
        if self.records.power is not None:
            axes[0].semilogy(steps, np.maximum(self.records.power, 1e-30), lw=1)
            axes[0].set(xlabel="step", ylabel="read power (W)", title="power per step")
        for era in self.eras[1:]:
            axes[0].axvline(era.start_step + 0.5, color="gray", ls=":", lw=1)
        axes[1].plot(steps, np.cumsum(~self.records.correct), lw=1)
        axes[1].set(xlabel="step", ylabel="mistakes (cumulative)", title="mistakes")
        for era in self.eras[1:]:
            axes[1].axvline(era.start_step + 0.5, color="gray", ls=":", lw=1)
        if has_states:
            g = self.conductances()
            im = axes[2].imshow(g.T * 1e3, aspect="auto", origin="lower", cmap="viridis",
                                extent=(0, g.shape[0] - 1, -0.5, g.shape[1] - 0.5),
                                interpolation="nearest")
            axes[2].set(xlabel="step", ylabel="device", title="conductance (mS)")
            fig.colorbar(im, ax=axes[2])
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=120)
            plt.close(fig)
        return fig
