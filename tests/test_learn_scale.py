"""Success rates of the learner on 200 seeds stay inside the 95 % intervals of the code before
issue 10's speed work (the counts below were measured with benchmarks/learn_success_counts.py
at commit 99fde4c, 2026-12-01). The experiments are the script's; only the counts are kept
here."""

import sys
from pathlib import Path

import pytest

from memsim.learn.result import wilson_interval

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from learn_success_counts import layered_count, paper_counts  # noqa: E402

N = 200
BEFORE_PAPER = (199, 193, 190, 186)  # era 1, era 2, era 3, all three (alternating task)
BEFORE_LAYERED = 64  # 8-16-8, random one-hot P = 2


def _inside(now: int, before: int) -> bool:
    # the earlier count's 95 % Wilson interval: a change of the physics or of the random
    # streams that moves a success rate by more than its sampling error falls outside
    low, high = wilson_interval(before, N)
    return low <= now / N <= high


@pytest.mark.slow
def test_paper_alternating_success_counts_are_unchanged():
    now = paper_counts(N)
    assert all(_inside(k, b) for k, b in zip(now, BEFORE_PAPER, strict=True)), now


@pytest.mark.slow
def test_layered_8_16_8_success_count_is_unchanged():
    now = layered_count(N)
    assert _inside(now, BEFORE_LAYERED), now
