"""Looking at a network: its HTML summary for Jupyter and a matplotlib drawing.

:meth:`Network.draw <memsim.Network.draw>` and :meth:`Network._repr_html_` call these.
Node colours show roles (inputs blue, outputs orange, bulk grey, ground black); edge widths
show device conductances on a log scale, so the paths that carry the current stand out.
matplotlib is imported only when a drawing is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from memsim.devices.kernels import conductances
from memsim.devices.models import Model
from memsim.errors import ParameterError
from memsim.reprs import html_table

if TYPE_CHECKING:
    from memsim.circuit.network import Network

__all__ = ["ROLE_COLORS", "draw_network", "network_html", "network_positions"]

ROLE_COLORS = {0: "#9e9e9e", 1: "#1f77b4", 2: "#ff7f0e", 3: "#000000"}
"""Node colour per :class:`~memsim.circuit.network.Role` value (bulk, input, output, ground)."""


def network_html(net: Network) -> str:
    """The HTML summary Jupyter shows for a network."""
    from memsim.circuit.network import Role

    def names(idx: np.ndarray) -> str:
        shown = ", ".join(net.node_names[i] for i in idx[:8])
        return shown + (f", ... ({len(idx)})" if len(idx) > 8 else "")

    counts = {m.name.lower(): int(np.sum(net.model == m)) for m in Model}
    rows: list[tuple[str, Any]] = [
        ("nodes", f"{net.n_nodes} ({int(np.sum(net.roles == Role.BULK))} bulk, "
                  f"{int(np.sum(net.roles == Role.GROUND))} ground)"),
        ("edges", ", ".join(f"{v} {k}" for k, v in counts.items() if v) or "none"),
        ("inputs", names(net.inputs) or "none"), ("outputs", names(net.outputs) or "none")]
    mem = net.memristive
    if mem.any():
        rows.append(("R_on / R_off", f"{_span(net.params[mem, 0])} / "
                                     f"{_span(net.params[mem, 1])} ohm"))
        rows.append(("initial states", _span(net.x0[mem])))
    if net.layout is not None:
        rows.append(("crossbar", f"{net.layout.rows} x {net.layout.cols}, line segments "
                                 f"{net.layout.r_word:g} / {net.layout.r_bit:g} ohm"))
    if net.meta.get("description"):
        rows.append(("description", net.meta["description"]))
    return html_table(f"Network {net.name!r}", rows)


def _span(a: np.ndarray) -> str:
    lo, hi = float(np.min(a)), float(np.max(a))
    return f"{lo:.4g}" if lo == hi else f"{lo:.4g} .. {hi:.4g}"


def network_positions(net: Network, seed: int = 0) -> np.ndarray:
    """(N, 2) drawing positions: a grid for crossbars (inputs left, outputs below), columns
    by layer for layered nets, and a spring layout with inputs left and outputs right for
    other graphs (seeded, so a drawing does not change between runs)."""
    n = net.n_nodes
    if net.layout is not None:
        lay = net.layout
        pos = np.full((n, 2), np.nan)
        pos[net.inputs] = np.column_stack([np.full(len(net.inputs), -1.0),
                                           -np.arange(len(net.inputs), dtype=float)])
        pos[net.outputs] = np.column_stack([np.arange(len(net.outputs)) + 0.4,
                                            np.full(len(net.outputs), -float(lay.rows))])
        rows, cols = np.indices((lay.rows, lay.cols))
        for nodes, dx, dy in ((lay.word, 0.0, 0.0), (lay.bit, 0.4, -0.4)):
            todo = np.isnan(pos[nodes.ravel(), 0])
            flat = nodes.ravel()[todo]
            pos[flat] = np.column_stack([cols.ravel()[todo] + dx, -rows.ravel()[todo] + dy])
        return np.nan_to_num(pos)
    sizes = net.meta.get("sizes")
    if sizes is not None and sum(sizes) == n:
        layer = np.repeat(np.arange(len(sizes)), sizes)
        rank = np.concatenate([np.arange(s) - (s - 1) / 2 for s in sizes])
        return np.column_stack([layer.astype(float), -rank])
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(net.edges[net.model != Model.OPEN].tolist())
    fixed = {}
    for x, terms in ((-1.0, net.inputs), (1.0, net.outputs)):
        for k, node in enumerate(terms):
            fixed[int(node)] = (x, (len(terms) - 1) / 2 - k if len(terms) > 1 else 0.0)
    layout = nx.spring_layout(g, pos=fixed or None, fixed=list(fixed) or None, seed=seed)
    return np.array([layout[k] for k in range(n)], float)


def draw_network(net: Network, ax: Any = None, *, state: np.ndarray | None = None,
                 labels: bool | None = None, pos: np.ndarray | None = None) -> Any:
    """Draw ``net`` on ``ax`` (a new figure if None) and return the axes.

    Parameters
    ----------
    state : (E,) array, optional
        Device states whose conductances set the edge widths (default ``net.x0``), e.g.
        ``result.final_state`` after training.
    labels : bool, optional
        Write node names (default: for networks of at most 40 nodes).
    pos : (N, 2) array, optional
        Node positions (default :func:`network_positions`).

    Raises
    ------
    ParameterError
        If ``state`` or ``pos`` has the wrong shape.
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    x = net.x0 if state is None else np.asarray(state, float)
    if x.shape != (net.n_edges,):
        raise ParameterError("state", f"expected {net.n_edges} device states, got {x.shape}")
    pos = network_positions(net) if pos is None else np.asarray(pos, float)
    if pos.shape != (net.n_nodes, 2):
        raise ParameterError("pos", f"expected ({net.n_nodes}, 2) positions, got {pos.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5))
    g = conductances(np.asarray(net.model), np.ascontiguousarray(x), np.asarray(net.params))
    shown = net.model != Model.OPEN
    mem = net.memristive & shown
    width = np.full(net.n_edges, 0.6)
    if mem.any():
        lg = np.log10(g[mem])
        span = lg.max() - lg.min()
        width[mem] = 0.6 + 3.4 * ((lg - lg.min()) / span if span > 0 else 0.4)
    colour = np.where(mem, "#444444", "#bbbbbb")
    segments = pos[net.edges[shown]]
    ax.add_collection(LineCollection(segments, linewidths=width[shown], colors=colour[shown],
                                     zorder=1))
    size = 60 if net.n_nodes <= 100 else 12
    ax.scatter(pos[:, 0], pos[:, 1], s=size, c=[ROLE_COLORS[int(r)] for r in net.roles],
               zorder=2, edgecolors="white", linewidths=0.5)
    if labels or (labels is None and net.n_nodes <= 40):
        for k, name in enumerate(net.node_names):
            ax.annotate(name, pos[k], textcoords="offset points", xytext=(4, 4), fontsize=7)
    names = ("bulk", "input", "output", "ground")
    present = sorted({int(r) for r in net.roles})
    handles = [Line2D([], [], marker="o", linestyle="", color=ROLE_COLORS[r], label=names[r])
               for r in present]
    if mem.any():
        handles.append(Line2D([], [], color="#444444", linewidth=2,
                              label=f"memristor (width: log G, {g[mem].min():.2g}.."
                                    f"{g[mem].max():.2g} S)"))
    if (shown & ~mem).any():
        handles.append(Line2D([], [], color="#bbbbbb", linewidth=0.6, label="resistor"))
    ax.legend(handles=handles, fontsize=7, frameon=False, loc="upper center",
              bbox_to_anchor=(0.5, 0.0), ncol=3)
    ax.set_title(net.name, fontsize=9)
    ax.autoscale_view()
    ax.set_aspect("equal", adjustable="datalim")
    ax.axis("off")
    return ax
