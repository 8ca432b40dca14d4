"""Online learning in recurrent spiking networks whose synapses are weight stores.

Two rules of the seed papers, on float weights or memristive crossbar tiles alike (any
:class:`~memsim.tiles.WeightStore`):

* e-prop / block-diagonal RTRL (Zenke & Neftci, arXiv 2010.11931): a recurrent LIF network
  (:class:`RecurrentLIF`) learns online from eligibility traces and a learning signal per
  neuron (:class:`OnlineLearner`, :func:`train_online`); exact RTRL is the reference.
* hybrid global-local plasticity (Wu et al., Nat. Commun. 13, 65, 2022): weights ``W`` by
  gradient plus a local Hebbian trace ``P`` with decay and bounds whose coefficients are
  meta-learned (:class:`HybridNet`, :func:`train_hybrid`), with the fault-tolerance and
  continual-learning tasks.

BPTT baselines and meta-gradients come from JAX (:mod:`memsim.rules.online.autodiff`, the
``autodiff`` extra); the online rules themselves are explicit NumPy.

>>> from memsim.rules.online import RecurrentLIF, init_weights, online_gradients
>>> import numpy as np
>>> net = RecurrentLIF(**init_weights(8, 10, 10, seed=0))
>>> g = online_gradients(net, np.ones((2, 8, 8)), np.array([3, 4]))
>>> sorted(g)
['loss', 'w_in', 'w_out', 'w_rec']
"""

from memsim.rules.datasets import SequenceData, digit_sequences
from memsim.rules.online.data import split_classes
from memsim.rules.online.eprop import (
    OnlineConfig,
    OnlineLearner,
    OnlineResult,
    accuracy,
    online_gradients,
    train_online,
)
from memsim.rules.online.hybrid import (
    HybridResult,
    HybridTraining,
    continual,
    fault_tolerance,
    train_hybrid,
)
from memsim.rules.online.lif import LIFConfig, LIFState, RecurrentLIF, init_weights
from memsim.rules.online.plasticity import (
    Decay,
    ExponentialDecay,
    HybridConfig,
    HybridNet,
    RetentionDecay,
    StuckAtWeights,
    stuck_at,
)

__all__ = [
    "Decay",
    "ExponentialDecay",
    "HybridConfig",
    "HybridNet",
    "HybridResult",
    "HybridTraining",
    "LIFConfig",
    "LIFState",
    "OnlineConfig",
    "OnlineLearner",
    "OnlineResult",
    "RecurrentLIF",
    "RetentionDecay",
    "SequenceData",
    "StuckAtWeights",
    "accuracy",
    "continual",
    "digit_sequences",
    "fault_tolerance",
    "init_weights",
    "online_gradients",
    "split_classes",
    "stuck_at",
    "train_hybrid",
    "train_online",
]
