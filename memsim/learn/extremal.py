"""numba kernels of the abstract Chialvo-Bak model (:mod:`memsim.learn.abstract`): extremal
dynamics and selective punishment on weights only, all eras in one call. The plain-NumPy twin
is :func:`memsim.learn.reference.train_extremal_np`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["shuffle_order", "train_extremal"]


@njit(cache=True, inline="always")
def shuffle_order(order, rng):
    """Fisher-Yates shuffle of ``order`` in place: the pattern order of one pass of either
    learning kernel, one ``rng.integers`` draw per position from the last down.

    >>> order = np.arange(5)
    >>> shuffle_order(order, np.random.default_rng(0))
    >>> sorted(order.tolist())
    [0, 1, 2, 3, 4]
    """
    for j in range(order.shape[0] - 1, 0, -1):
        q = rng.integers(0, j + 1)
        tmp = order[j]
        order[j] = order[q]
        order[q] = tmp


@njit(cache=True)
def _argmax_random(values, rng):
    """Index of the largest value; exact ties broken uniformly at random."""
    best = values[0]
    count = 1
    idx = 0
    for k in range(1, values.shape[0]):
        if values[k] > best:
            best = values[k]
            count = 1
            idx = k
        elif values[k] == best:
            count += 1
    if count == 1:
        return idx
    pick = rng.integers(0, count)
    for k in range(values.shape[0]):
        if values[k] == best:
            if pick == 0:
                return k
            pick -= 1
    return idx


@njit(cache=True)
def _forward(w, offsets, sizes, pattern, rng, path):
    """Extremal propagation: fills ``path`` with the winner of every layer (path[0] unused)."""
    n_layers = sizes.shape[0]
    n0, n1 = sizes[0], sizes[1]
    drive = np.zeros(n1)
    for i in range(n0):
        if pattern[i] != 0.0:
            for j in range(n1):
                drive[j] += pattern[i] * w[offsets[0] + i * n1 + j]
    path[1] = _argmax_random(drive, rng)
    for layer in range(1, n_layers - 1):
        b = sizes[layer + 1]
        row = w[offsets[layer] + path[layer] * b: offsets[layer] + (path[layer] + 1) * b]
        path[layer + 1] = _argmax_random(row, rng)
    return path[n_layers - 1]


@njit(cache=True, nogil=True)
def train_extremal(w0, offsets, sizes, patterns, era_targets, delta, selective, shuffle,
                   max_steps, rng):
    """Chialvo-Bak learning from mistakes on a layered weight network, all eras in one call.

    ``w0`` holds every layer's weight matrix (sizes[l] x sizes[l+1], row-major) back to back at
    ``offsets[l]``. Per step the active inputs drive the hidden unit with the largest summed
    weight, which fires the unit of the next layer with the largest weight, and so on (extremal
    dynamics). A correct answer tags the active synapses; a wrong one depresses every active
    synapse by ``delta`` (tagged ones by ``delta * selective``), weights held at >= 0.

    Returns
    -------
    rec_pattern, rec_winner (T,) int; rec_correct (T,) bool; rec_era (T,) int;
    era_info (n_eras, 4); final weights; tags; n_correct_final.
    """
    w = w0.copy()
    tagged = np.zeros(w.shape[0], np.bool_)
    n_layers = sizes.shape[0]
    n_pat = patterns.shape[0]
    n_eras = era_targets.shape[0]
    total = n_eras * max_steps
    rec_pattern = np.full(total, -1, np.int64)
    rec_winner = np.full(total, -1, np.int64)
    rec_correct = np.zeros(total, np.bool_)
    rec_era = np.zeros(total, np.int64)
    era_info = np.zeros((n_eras, 4), np.int64)
    path = np.zeros(n_layers, np.int64)
    order = np.arange(n_pat)
    n1 = sizes[1]
    t = 0
    for era in range(n_eras):
        targets = era_targets[era]
        steps = 0
        mistakes = 0
        era_info[era, 1] = -1
        for j in range(n_pat):
            order[j] = j
        while steps < max_steps and era_info[era, 0] == 0:
            if shuffle:
                shuffle_order(order, rng)
            pass_mistakes = 0
            done = 0
            for j in range(n_pat):
                if steps >= max_steps:
                    break
                p = order[j]
                pat = patterns[p]
                out = _forward(w, offsets, sizes, pat, rng, path)
                ok = out == targets[p]
                # the active synapses: (active input, first winner) and the winners' chain
                for i in range(sizes[0]):
                    if pat[i] != 0.0:
                        k = offsets[0] + i * n1 + path[1]
                        if ok:
                            tagged[k] = True
                        else:
                            d = delta * selective if tagged[k] else delta
                            w[k] = max(w[k] - d, 0.0)
                for layer in range(1, n_layers - 1):
                    k = offsets[layer] + path[layer] * sizes[layer + 1] + path[layer + 1]
                    if ok:
                        tagged[k] = True
                    else:
                        d = delta * selective if tagged[k] else delta
                        w[k] = max(w[k] - d, 0.0)
                if not ok:
                    pass_mistakes += 1
                    mistakes += 1
                rec_pattern[t] = p
                rec_winner[t] = out
                rec_correct[t] = ok
                rec_era[t] = era
                t += 1
                steps += 1
                done += 1
            if done == n_pat and pass_mistakes == 0:
                era_info[era, 0] = 1
                era_info[era, 1] = steps
        era_info[era, 2] = steps
        era_info[era, 3] = mistakes
    n_correct = 0
    targets = era_targets[n_eras - 1]
    for p in range(n_pat):
        if _forward(w, offsets, sizes, patterns[p], rng, path) == targets[p]:
            n_correct += 1
    return (rec_pattern[:t], rec_winner[:t], rec_correct[:t], rec_era[:t], era_info, w, tagged,
            n_correct)
