"""The learning rules the ``memsim rule`` command knows: one :class:`Rule` entry each.

A new rule (e-prop, hybrid plasticity, ...) joins with one entry in :data:`RULES`: its name,
a one-line help, its config dataclass (``--set FIELD=VALUE`` reads its fields) and a ``run``
function ``(config, dataset, hardware, epochs, seed, progress) -> result`` whose result has
``test_accuracy``, ``history`` (one dict per epoch) and ``stats`` (a WeightStats or a dict of
them per layer).

>>> sorted(RULES)
['eprop', 'erbp', 'hybrid', 'mushroom']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from memsim.rules.datasets import Dataset
from memsim.rules.erbp import ERBP, ERBPConfig
from memsim.rules.mushroom import MushroomBody, MushroomConfig
from memsim.rules.online.run import EpropRun, HybridRun, run_eprop, run_hybrid

__all__ = ["RULES", "Rule"]


@dataclass(frozen=True)
class Rule:
    """A learning rule as the command line sees it (see the module docstring)."""

    name: str
    help: str
    config: type
    run: Callable[..., Any]
    default_epochs: int
    small: dict[str, Any]  #: config changes for quick runs (--small, CI)


def _run_erbp(config: ERBPConfig, ds: Dataset, hardware: Any, epochs: int, seed: int,
              progress: bool) -> Any:
    net = ERBP(ds.n_features, ds.n_classes, config, hardware=hardware, seed=seed)
    return net.fit(ds, epochs=epochs, progress=progress)


def _run_mushroom(config: MushroomConfig, ds: Dataset, hardware: Any, epochs: int, seed: int,
                  progress: bool) -> Any:
    mb = MushroomBody(ds.n_features, ds.n_classes, config, hardware=hardware, seed=seed)
    return mb.fit(ds, epochs=epochs, progress=progress)


RULES: dict[str, Rule] = {
    "erbp": Rule("erbp", "event-driven random back-propagation, 64-100-10 spiking network",
                 ERBPConfig, _run_erbp, 10, {"hidden": 30, "t_sample": 0.08}),
    "mushroom": Rule("mushroom", "mushroom body: sparse KC expansion, k-WTA, local rule",
                     MushroomConfig, _run_mushroom, 3, {"n_kc": 300, "k": 15}),
    "eprop": Rule("eprop", "e-prop / RTRL in a recurrent LIF network, image rows as time "
                  "(--set method=rtrl, feedback=symmetric, encoding=spikes)",
                  EpropRun, run_eprop, 20, {"n_hidden": 30}),
    "hybrid": Rule("hybrid", "hybrid global-local plasticity, W by BPTT plus a meta-learned "
                   "Hebbian trace (--set task=faults|continual; p_store=volatile64: the trace on "
                   "volatile devices)",
                   HybridRun, run_hybrid, 15, {"n_hidden": 48}),
}
"""Rules by name."""
