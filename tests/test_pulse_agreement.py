"""The fast pulse (RK4, CircuitConfig's default 4 steps and event_tol) against a converged
reference (adaptive Dormand-Prince, 1e-12 local error) on device states sampled from real
training runs of fully connected [w/2, w, w/2] nets, w = 8, 32, 64 (issue 10, point 4)."""

import numpy as np
import pytest

from memsim.analyze.study import LayeredFactory
from memsim.learn import CircuitConfig, random_task, train
from memsim.solve.pulse import pulse
from memsim.solve.topology import adjacency, free_index

CONFIG = CircuitConfig()
# CircuitConfig documents event_tol = 1e-5 as keeping a pulse within 1e-4 of a converged
# solution in every state: that is the bound checked.
ACCURACY = 1e-4


def _pulse(net, params, x, v_nodes, grounded, duration, n_sub, tol):
    fixed = np.zeros(net.n_nodes, bool)
    value = np.zeros(net.n_nodes)
    for node, v in v_nodes.items():
        fixed[node] = True
        value[node] = v
    fixed[net.outputs[grounded]] = True
    ptr, nbr, nbr_edge = adjacency(net.n_nodes, net.edges)
    fi = free_index(fixed, np.ones(net.n_edges, bool), ptr, nbr, nbr_edge)
    return pulse(x, net.edges, net.model, params, fi, value, duration, n_sub, tol)[0]


@pytest.mark.parametrize("width", [8, 32, 64])
def test_fast_pulse_agrees_with_a_converged_reference_on_training_states(width):
    net = LayeredFactory((width // 2, width, width // 2))(np.random.SeedSequence(1))
    task = random_task(len(net.inputs), len(net.outputs), 2, seed=1)
    res = train(net, task, CONFIG, seed=1, record_states=True)
    states = res.records.states
    assert states.shape[0] >= 3
    n_out = len(net.outputs)
    drives = {  # the two write pulses of a mistake: inhibit (input 0, output 0), normalize
        "inhibit": ({int(net.inputs[0]): CONFIG.v_inhibit}, np.arange(n_out) == 0,
                    CONFIG.t_inhibit),
        "normalize": ({int(i): CONFIG.v_normalize for i in net.inputs}, np.ones(n_out, bool),
                      CONFIG.t_normalize),
    }
    worst = 0.0
    moved = 0.0
    for x in states[[0, len(states) // 2, -1]]:
        for v_nodes, grounded, duration in drives.values():
            fast = _pulse(net, res.params, x, v_nodes, grounded, duration, CONFIG.substeps,
                          -1.0)
            ref = _pulse(net, res.params, x, v_nodes, grounded, duration, 1, 1e-12)
            worst = max(worst, float(np.abs(fast - ref).max()))
            moved = max(moved, float(np.abs(ref - x).max()))
    assert moved > 0.05  # the pulses change the states substantially
    assert worst <= ACCURACY, f"w = {width}: max |fast - reference| = {worst:.2e}"
