"""Learning tasks, protocol configurations and the Wilson interval."""

import math

import numpy as np
import pytest

from memsim.errors import MemsimError, ParameterError
from memsim.learn import (
    AbstractConfig,
    CircuitConfig,
    Task,
    all_mappings,
    alternating_task,
    fixed_task,
    parity_task,
    random_task,
    wilson_interval,
)


def test_random_task_one_hot_uses_distinct_inputs_and_valid_targets():
    t = random_task(6, 3, 5, seed=7)
    assert t.patterns.shape == (5, 6) and t.one_hot
    units = np.argmax(t.patterns, axis=1)
    assert len(set(units.tolist())) == 5  # one pattern per input node
    assert ((t.targets >= 0) & (t.targets < 3)).all()
    assert t.n_eras == 1 and t.eras[0] is t.targets


def test_random_task_binary_patterns_are_distinct_nonzero_bit_vectors():
    t = random_task(3, 2, 7, seed=1, one_hot=False)  # all 7 nonzero codes on 3 bits
    assert set(np.unique(t.patterns)) <= {0.0, 1.0}
    codes = {tuple(row) for row in t.patterns.astype(int)}
    assert len(codes) == 7 and (0, 0, 0) not in codes


def test_random_task_is_seeded():
    a, b, c = (random_task(8, 2, 6, seed=s) for s in (3, 3, 4))
    assert np.array_equal(a.patterns, b.patterns) and np.array_equal(a.targets, b.targets)
    assert not (np.array_equal(a.patterns, c.patterns) and np.array_equal(a.targets, c.targets))


def test_alternating_task_swaps_the_mapping_each_era():
    t = alternating_task(4)
    assert [e.tolist() for e in t.eras] == [[0, 1], [1, 0], [0, 1], [1, 0]]
    assert np.array_equal(t.patterns, np.eye(2))


def test_parity_and_all_mappings():
    t = parity_task(5)
    assert t.targets.tolist() == [k % 2 for k in range(1, 6)]
    maps = all_mappings(2, 3)
    assert len(maps) == 9
    assert len({tuple(m.targets) for m in maps}) == 9


def test_fixed_task_infers_outputs_and_keeps_eras():
    t = fixed_task([[1, 0, 1], [0, 1, 0]], [2, 0], eras=[[2, 0], [0, 2]])
    assert t.n_outputs == 3 and t.n_eras == 2 and t.era_targets.tolist() == [[2, 0], [0, 2]]
    assert t.with_eras([[1, 1]]).targets.tolist() == [1, 1]


def test_task_arrays_are_read_only():
    t = alternating_task(2)
    with pytest.raises(ValueError):
        t.patterns[0, 0] = 5.0


@pytest.mark.parametrize("kwargs, field", [
    (dict(patterns=[[0, 0], [0, 1]], targets=[0, 1], n_outputs=2), "patterns"),
    (dict(patterns=[[1, 0], [1, 0]], targets=[0, 1], n_outputs=2), "patterns"),
    (dict(patterns=[[1, np.nan]], targets=[0], n_outputs=2), "patterns"),
    (dict(patterns=[1, 0], targets=[0], n_outputs=2), "patterns"),
    (dict(patterns=[[1, 0]], targets=[2], n_outputs=2), "targets"),
    (dict(patterns=[[1, 0]], targets=[0, 1], n_outputs=2), "targets"),
    (dict(patterns=[[1, 0]], targets=[0.5], n_outputs=2), "targets"),
    (dict(patterns=[[1, 0]], targets=[0], n_outputs=0), "n_outputs"),
    (dict(patterns=[[1, 0]], targets=[0], n_outputs=2, eras=([0], [3])), "eras[1]"),
])
def test_task_validation_names_the_field(kwargs, field):
    with pytest.raises(ParameterError) as err:
        Task(**kwargs)
    assert err.value.field == field


@pytest.mark.parametrize("call", [
    lambda: random_task(2, 2, 3, seed=0),  # 3 one-hot patterns on 2 inputs
    lambda: random_task(2, 2, 4, seed=0, one_hot=False),  # only 3 nonzero codes
    lambda: random_task(0, 2, 1, seed=0),
    lambda: alternating_task(0),
    lambda: alternating_task(2, n_outputs=1),
    lambda: parity_task(1),
    lambda: all_mappings(0, 2),
    lambda: all_mappings(2, 0),
    lambda: fixed_task([[1, 0]], [5], n_outputs=2),
])
def test_task_generators_raise_parameter_errors(call):
    with pytest.raises(ParameterError):
        call()


def test_wilson_interval_solves_the_score_equation():
    # Independent check: the Wilson bounds are the roots in p of (k/n - p)^2 = z^2 p (1-p) / n.
    for k, n in [(0, 10), (9, 10), (45, 100), (100, 100)]:
        z = 1.96
        a, b, c = 1 + z * z / n, -(2 * k / n + z * z / n), (k / n) ** 2
        roots = sorted(np.roots([a, b, c]).real)
        lo, hi = wilson_interval(k, n, z)
        assert math.isclose(lo, max(roots[0], 0.0), abs_tol=1e-12)
        assert math.isclose(hi, min(roots[1], 1.0), abs_tol=1e-12)


@pytest.mark.parametrize("k, n", [(3, 0), (-1, 5), (6, 5)])
def test_wilson_interval_raises(k, n):
    with pytest.raises(ParameterError):
        wilson_interval(k, n)


@pytest.mark.parametrize("changes, field", [
    (dict(v_read=0.0), "v_read"),
    (dict(v_read=-0.5), "v_read"),
    (dict(t_read=-1.0), "t_read"),
    (dict(v_inhibit=2.0), "v_inhibit"),
    (dict(v_inhibit=float("nan")), "v_inhibit"),
    (dict(t_inhibit=-1e-3), "t_inhibit"),
    (dict(v_normalize=-1.0), "v_normalize"),
    (dict(t_normalize=float("inf")), "t_normalize"),
    (dict(inactive_inputs="open"), "inactive_inputs"),
    (dict(substeps=0), "substeps"),
    (dict(substeps=2.5), "substeps"),
    (dict(pulse_tol=0.0), "pulse_tol"),
    (dict(pulse_tol=float("nan")), "pulse_tol"),
    (dict(prune_state=1.0), "prune_state"),
    (dict(prune_probability=1.5), "prune_probability"),
    (dict(c2c_noise=-0.1), "c2c_noise"),
    (dict(d2d_spread=-0.1), "d2d_spread"),
    (dict(x0_spread=-0.1), "x0_spread"),
    (dict(min_current=-1.0), "min_current"),
    (dict(max_steps=0), "max_steps"),
])
def test_circuit_config_validation(changes, field):
    with pytest.raises(ParameterError) as err:
        CircuitConfig(**changes)
    assert err.value.field == field
    assert isinstance(err.value, MemsimError)


def test_circuit_config_default_read_cannot_reach_the_threshold():
    # The defaults' promise: reads stay below the pershin2011 threshold of 1 V.
    c = CircuitConfig()
    assert c.v_read < 1.0 and -c.v_inhibit > 2.0
    assert c.replace(v_read=0.3).v_read == 0.3


@pytest.mark.parametrize("changes, field", [
    (dict(delta=0.0), "delta"),
    (dict(selective=1.5), "selective"),
    (dict(max_steps=0), "max_steps"),
])
def test_abstract_config_validation(changes, field):
    with pytest.raises(ParameterError) as err:
        AbstractConfig(**changes)
    assert err.value.field == field
