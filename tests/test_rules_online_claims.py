"""The issue's accuracy targets for the online spiking rules, at full settings, one seed.

Each run takes 15-40 s on the 2-core machine; the benchmark (benchmarks/bench_online.py)
repeats them over seeds with error bars. Nothing here is tuned to pass: the settings are the
library's defaults.
"""

import pytest

from memsim.rules.online import OnlineConfig, digit_sequences, train_online

pytest.importorskip("jax")
from memsim.rules.online.hybrid import HybridTraining, fault_tolerance, train_hybrid  # noqa: E402

pytestmark = pytest.mark.slow


def test_eprop_learns_sequential_digits_with_float_weights():
    res = train_online(digit_sequences("rows"), OnlineConfig(), seed=0, progress=False)
    assert res.test_accuracy >= 0.85


@pytest.fixture(scope="module")
def hybrid():
    data = digit_sequences("spikes")
    return data, train_hybrid(data, HybridTraining(), seed=0, progress=False)


def test_hybrid_learns_the_digits(hybrid):
    assert hybrid[1].test_accuracy >= 0.93


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="measured: after 10 % stuck-at faults in W the trace alone recovers "
                   "none of the loss (benchmarks/README.md, bench_online.py --part faults); "
                   "the seed's claim is not reproduced on the digits")
def test_local_plasticity_recovers_half_the_accuracy_lost_to_faults(hybrid):
    data, res = hybrid
    out = fault_tolerance(res, data, fraction=0.1, seed=0)
    assert out["clean"] - out["faulty_frozen"] > 0.05      # the faults do cost accuracy
    assert out["recovered"] >= 0.5
