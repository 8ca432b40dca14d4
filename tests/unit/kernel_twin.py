"""The training kernel and its NumPy twin run side by side, for the agreement tests."""

import warnings

import numpy as np

from memsim.errors import FloatingSubnetworkWarning
from memsim.learn import kernels as K
from memsim.learn.circuit import kernel_arrays
from memsim.learn.reference import train_circuit_np


def kernel_and_twin(net, config, task, params, x0, steps, seed, model=None):
    """:func:`memsim.learn.kernels.train_circuit` and
    :func:`memsim.learn.reference.train_circuit_np` on the same devices (``params``, ``x0``,
    ``model``: default the network's) and the same dynamics seed, recording states; returns
    the kernel's ``TrainOutput`` and the twin's dict."""
    proto, opts = config.packed(steps, True)
    edges, net_model, ground, inputs, outputs, _ = kernel_arrays(net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FloatingSubnetworkWarning)
        out = K.train_circuit(net.n_nodes, edges, net_model if model is None else model,
                              params, x0, ground, inputs, outputs, np.array(task.patterns),
                              task.era_targets, proto, opts, np.random.default_rng(seed))
        twin = train_circuit_np(net, params, x0, task.patterns, task.era_targets, config,
                                steps, np.random.default_rng(seed), model=model)
    return out, twin
