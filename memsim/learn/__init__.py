"""Learning from mistakes: on memristor circuits (inhibition, normalization, pruning) and in
the abstract Chialvo-Bak model it comes from.

>>> import memsim
>>> from memsim.learn import alternating_task, train
>>> net = memsim.load(memsim.circuit_path("paper_2x4x2"))
>>> result = train(net, alternating_task(1), seed=3)
>>> result.learned, result.final_accuracy
(True, 1.0)
"""

from memsim.learn.abstract import train_abstract
from memsim.learn.circuit import DeviceSample, device_draw, device_sample, train
from memsim.learn.config import AbstractConfig, CircuitConfig
from memsim.learn.protocol import check_switching, protocol_for
from memsim.learn.result import PHASES, EraResult, Records, TrainResult, wilson_interval
from memsim.learn.tasks import (
    Task,
    all_mappings,
    alternating_task,
    fixed_task,
    parity_task,
    random_task,
)

__all__ = [
    "PHASES",
    "AbstractConfig",
    "CircuitConfig",
    "DeviceSample",
    "EraResult",
    "Records",
    "Task",
    "TrainResult",
    "all_mappings",
    "alternating_task",
    "check_switching",
    "device_draw",
    "device_sample",
    "fixed_task",
    "parity_task",
    "protocol_for",
    "random_task",
    "train",
    "train_abstract",
    "wilson_interval",
]
