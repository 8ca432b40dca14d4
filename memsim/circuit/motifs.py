"""Topology motifs beyond the plain layered net: skip links, lateral links, balanced layers.

Learning from mistakes on fully connected layered nets of identical devices stops working from
8-16-8 on; these motifs are the hardware side of the co-design search (:mod:`memsim.search`):

* :func:`skip_layered` — a layered net plus direct links from inputs to outputs, each present
  with probability ``skip``: a one-device path beside the two-device ones, so an input whose
  hidden fan-out was depressed still reaches an output;
* :func:`lateral_layered` — a layered net plus links between the nodes of each hidden layer,
  each present with probability ``lateral``: current can move sideways, breaking the symmetry
  of a layer whose nodes would otherwise sit at one potential;
* :func:`bipartite_layered` — crossbar-like sparse layers: every node of a layer is joined to
  exactly ``degree`` nodes of the layer before, chosen so that the fan-outs differ by at most
  one (every word line and every bit line of a crossbar carries the same number of
  devices). Random pruning (``connectivity < 1``) instead leaves some inputs with few devices,
  the ones learning kills first.

Node names follow :func:`memsim.layered` (``in{k}``, ``h{l}_{k}``, ``out{k}``); every edge is
oriented forward, plus on the earlier layer (a lateral link: plus on the lower index), so a
positive input bias drives every forward device towards ON as in a layered net. The layered
part of :func:`skip_layered` and :func:`lateral_layered` draws its pruning exactly as
:func:`memsim.layered` does with the same seed, so a motif with no extra link is that net.

>>> import memsim
>>> from memsim.circuit.motifs import skip_layered
>>> net = skip_layered([2, 4, 2], device=memsim.devices.preset("pershin2011"), skip=1.0)
>>> net.n_edges  # 16 layered devices + 2 x 2 skip links
20
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np

from memsim.circuit.builders import from_networkx
from memsim.circuit.network import Network
from memsim.devices.models import Device
from memsim.errors import ParameterError

__all__ = ["MOTIFS", "bipartite_layered", "lateral_layered", "skip_layered"]

MOTIFS = ("skip", "lateral", "bipartite")
"""Names of the motifs (the topology kinds the search adds to layered and random nets)."""


def _sizes(sizes: Sequence[int], hidden_needed: bool) -> list[int]:
    out = [int(s) for s in sizes]
    need = 3 if hidden_needed else 2
    if len(out) < need or min(out) < 1:
        raise ParameterError("sizes", f"need >= {need} layers (inputs, hidden..., outputs) of "
                             f"width >= 1, got {list(sizes)}")
    return out


def _probability(name: str, value: float) -> float:
    v = float(value)
    if not 0 <= v <= 1:
        raise ParameterError(name, f"must be a probability in [0, 1], got {value!r}")
    return v


def _layer_names(sizes: Sequence[int]) -> list[list[str]]:
    names = []
    for li, width in enumerate(sizes):
        if li == 0:
            names.append([f"in{k}" for k in range(width)])
        elif li == len(sizes) - 1:
            names.append([f"out{k}" for k in range(width)])
        else:
            names.append([f"h{li}_{k}" for k in range(width)])
    return names


def _graph(layers: list[list[str]]) -> nx.DiGraph:
    g = nx.DiGraph()
    for layer in layers:
        g.add_nodes_from(layer)
    return g


def _layered_part(g: nx.DiGraph, layers: list[list[str]], connectivity: float,
                  rng: np.random.Generator) -> None:
    """The edges of ``memsim.layered(sizes, connectivity, seed=rng)``, with its draws."""
    if not 0 < connectivity <= 1:
        raise ParameterError("connectivity", f"must lie in (0, 1], got {connectivity!r}")
    full = sum(len(a) * len(b) for a, b in zip(layers[:-1], layers[1:], strict=False))
    keep = rng.random(full) < connectivity if connectivity < 1 else np.ones(full, bool)
    k = 0
    for a_layer, b_layer in zip(layers[:-1], layers[1:], strict=False):
        for a in a_layer:
            for b in b_layer:
                if keep[k]:
                    g.add_edge(a, b)
                k += 1


def _start(sizes: Sequence[int], connectivity: float, seed: int | np.random.Generator | None
           ) -> tuple[list[int], np.random.Generator, list[list[str]], nx.DiGraph]:
    """Sizes checked, the generator, node names, and the graph with the layered part."""
    checked = _sizes(sizes, hidden_needed=True)
    rng = np.random.default_rng(seed)
    layers = _layer_names(checked)
    g = _graph(layers)
    _layered_part(g, layers, connectivity, rng)
    return checked, rng, layers, g


def _build(g: nx.DiGraph, layers: list[list[str]], device: Device, name: str,
           meta: dict[str, object]) -> Network:
    net = from_networkx(g, inputs=layers[0], outputs=layers[-1], device=device, name=name)
    return net.replace(meta=meta)


def skip_layered(
    sizes: Sequence[int],
    *,
    device: Device,
    skip: float = 1.0,
    connectivity: float = 1.0,
    seed: int | np.random.Generator | None = None,
    name: str | None = None,
) -> Network:
    """A layered net with skip links: each input-output pair joined directly with
    probability ``skip``.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, at least three (inputs, hidden..., outputs).
    device : Device
        The device of every edge.
    skip : float
        Probability in [0, 1] that an input-output pair gets a skip link.
    connectivity : float
        Probability in (0, 1] that an edge of the layered part is kept.
    seed : int or Generator, optional
        Seeds the pruning of the layered part, then the skip links.

    Raises
    ------
    ParameterError
        Fewer than three layers, or a probability out of range.

    Examples
    --------
    >>> import memsim
    >>> net = skip_layered([3, 6, 3], device=memsim.devices.preset("pershin2011"), skip=1.0)
    >>> [n for n in net.edge_names if n.startswith("in0-out")]
    ['in0-out0', 'in0-out1', 'in0-out2']
    """
    skip = _probability("skip", skip)
    sizes, rng, layers, g = _start(sizes, connectivity, seed)
    links = rng.random(sizes[0] * sizes[-1]) < skip
    for k, (a, b) in enumerate((a, b) for a in layers[0] for b in layers[-1]):
        if links[k]:
            g.add_edge(a, b)
    label = name or "skip_" + "x".join(map(str, sizes))
    return _build(g, layers, device, label, {"sizes": tuple(sizes), "connectivity": connectivity,
                                            "skip": skip})


def lateral_layered(
    sizes: Sequence[int],
    *,
    device: Device,
    lateral: float = 0.5,
    connectivity: float = 1.0,
    seed: int | np.random.Generator | None = None,
    name: str | None = None,
) -> Network:
    """A layered net with lateral links: each pair of nodes of a hidden layer joined with
    probability ``lateral``.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, at least three (inputs, hidden..., outputs).
    device : Device
    lateral : float
        Probability in [0, 1] that a pair of nodes of one hidden layer gets a link.
    connectivity : float
        Probability in (0, 1] that an edge of the layered part is kept.
    seed : int or Generator, optional
        Seeds the pruning of the layered part, then the lateral links.

    Raises
    ------
    ParameterError
        Fewer than three layers, or a probability out of range.

    Examples
    --------
    >>> import memsim
    >>> net = lateral_layered([2, 4, 2], device=memsim.devices.preset("pershin2011"),
    ...                       lateral=1.0)
    >>> net.n_edges  # 16 layered devices + the 6 pairs of the hidden layer
    22
    """
    lateral = _probability("lateral", lateral)
    sizes, rng, layers, g = _start(sizes, connectivity, seed)
    for layer in layers[1:-1]:
        pairs = [(a, b) for i, a in enumerate(layer) for b in layer[i + 1:]]
        links = rng.random(len(pairs)) < lateral
        for k, (a, b) in enumerate(pairs):
            if links[k]:
                g.add_edge(a, b)
    label = name or "lateral_" + "x".join(map(str, sizes))
    return _build(g, layers, device, label, {"sizes": tuple(sizes), "connectivity": connectivity,
                                            "lateral": lateral})


def bipartite_layered(
    sizes: Sequence[int],
    *,
    device: Device,
    degree: int,
    seed: int | np.random.Generator | None = None,
    name: str | None = None,
) -> Network:
    """Crossbar-like balanced sparse layers: every node joined to ``degree`` nodes of the
    layer before, the fan-outs of that layer differing by at most one.

    Each node of layer ``l + 1`` in turn takes the ``degree`` nodes of layer ``l`` with the
    fewest links so far (ties broken at random), so every node of layer ``l`` ends with
    ``floor`` or ``ceil`` of ``degree * width(l + 1) / width(l)`` links. A degree above the
    width of the layer before is capped at that width (that pair of layers is then fully
    connected).

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, at least two.
    device : Device
    degree : int
        Links of each node to the layer before, >= 1.
    seed : int or Generator, optional
        Breaks the ties.

    Raises
    ------
    ParameterError
        Fewer than two layers, or ``degree < 1``.

    Examples
    --------
    >>> import memsim, numpy as np
    >>> net = bipartite_layered([4, 8, 4], device=memsim.devices.preset("pershin2011"),
    ...                         degree=2, seed=0)
    >>> fan_out = np.bincount(net.edges[:, 0], minlength=net.n_nodes)
    >>> fan_out[net.inputs].tolist(), net.n_edges  # 8 hidden nodes x 2 links / 4 inputs
    ([4, 4, 4, 4], 24)
    """
    sizes = _sizes(sizes, hidden_needed=False)
    if isinstance(degree, bool) or not isinstance(degree, int | np.integer) or degree < 1:
        raise ParameterError("degree", f"must be an integer >= 1, got {degree!r}")
    rng = np.random.default_rng(seed)
    layers = _layer_names(sizes)
    g = _graph(layers)
    for a_layer, b_layer in zip(layers[:-1], layers[1:], strict=False):
        d = min(int(degree), len(a_layer))
        links = np.zeros(len(a_layer), np.int64)
        for b in b_layer:
            # fewest links first; a random key breaks ties
            order = np.lexsort((rng.random(len(a_layer)), links))[:d]
            for i in sorted(order.tolist()):
                g.add_edge(a_layer[i], b)
                links[i] += 1
    label = name or f"bipartite_{'x'.join(map(str, sizes))}_d{degree}"
    return _build(g, layers, device, label, {"sizes": tuple(sizes), "degree": int(degree)})
