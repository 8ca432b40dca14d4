"""HTML summaries of memsim's objects for Jupyter (``_repr_html_``).

Each function reads its object's public attributes and returns a small table; nothing here
imports the classes it describes, so every package can use it. The result classes that do not
define ``_repr_html_`` themselves (:class:`~memsim.solve.DCResult`,
:class:`~memsim.solve.TransientResult`, :class:`~memsim.learn.TrainResult`) get these
summaries through IPython's formatter registry (:func:`register_ipython`), which
``import memsim`` calls when it runs inside IPython or Jupyter.

>>> print(html_table("demo", [("answer", "42")]))  # doctest: +NORMALIZE_WHITESPACE
<table class="memsim"><caption><b>demo</b></caption>
<tr><th style="text-align:left">answer</th><td style="text-align:left">42</td></tr>
</table>
"""

from __future__ import annotations

import html
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "dc_result_html",
    "html_table",
    "register_ipython",
    "train_result_html",
    "transient_result_html",
]

CELL = 'style="text-align:left"'


def html_table(title: str, rows: Sequence[tuple[str, Any]],
               columns: Sequence[str] | None = None,
               records: Sequence[Sequence[Any]] | None = None) -> str:
    """A captioned table of ``(label, value)`` rows, then optionally a second table of
    ``records`` under ``columns``; every text is HTML-escaped."""
    esc = html.escape
    out = [f'<table class="memsim"><caption><b>{esc(title)}</b></caption>']
    out += [f"<tr><th {CELL}>{esc(str(k))}</th><td {CELL}>{esc(str(v))}</td></tr>"
            for k, v in rows]
    out.append("</table>")
    if columns and records is not None:
        out.append('<table class="memsim"><tr>'
                   + "".join(f"<th>{esc(c)}</th>" for c in columns) + "</tr>")
        out += ["<tr>" + "".join(f"<td>{esc(str(v))}</td>" for v in r) + "</tr>"
                for r in records]
        out.append("</table>")
    return "\n".join(out)


def _span(a: np.ndarray, unit: str = "") -> str:
    a = np.asarray(a, float)
    if a.size == 0:
        return "none"
    lo, hi = float(a.min()), float(a.max())
    return f"{lo:.4g} {unit}".strip() if lo == hi else f"{lo:.4g} .. {hi:.4g} {unit}".strip()


def dc_result_html(res: Any) -> str:
    """Summary of a :class:`~memsim.solve.DCResult`: sizes, output currents, power."""
    batch = res.node_voltages.shape[1] if res.node_voltages.ndim == 2 else None
    rows = [("nodes", res.node_voltages.shape[0]), ("edges", res.edges.shape[0]),
            ("input vectors", batch or 1),
            ("output currents", _span(res.output_currents, "A")),
            ("power", _span(res.power, "W")),
            ("floating nodes", int(np.sum(res.floating)))]
    records = None
    if batch is None and res.output_currents.size <= 16:
        records = [(k, f"{i:.6g}") for k, i in enumerate(res.output_currents)]
    return html_table("DC operating point", rows, ["output", "current (A)"], records)


def transient_result_html(res: Any) -> str:
    """Summary of a :class:`~memsim.solve.TransientResult`: integration and final state."""
    mem = np.asarray(res.net.memristive) if res.net is not None else np.ones(res.x.shape[1], bool)
    rows = [("network", getattr(res.net, "name", "")),
            ("time", f"0 .. {res.t[-1]:.4g} s, {len(res.t)} saved points"),
            ("method", f"{res.method}: {res.n_steps} steps, {res.n_rejected} rejected"),
            ("final states", _span(res.x[-1, mem]) if mem.any() else "no memristors"),
            ("output currents", _span(res.output_currents, "A")),
            ("peak power", f"{float(np.max(res.power)):.4g} W" if res.power.size else "none"),
            ("wall time", f"{res.wall_time:.3g} s")]
    return html_table("transient", rows)


def train_result_html(res: Any) -> str:
    """Summary of a :class:`~memsim.learn.TrainResult`: outcome, then one row per era."""
    energy = res.total_energy
    rows = [("learned", res.learned),
            ("steps to learn", res.steps_to_learn if res.steps_to_learn is not None else "-"),
            ("final accuracy", f"{res.final_accuracy:.3g}"),
            ("steps", res.n_steps), ("mistakes", res.n_mistakes),
            ("pruned devices", int(np.sum(res.pruned)) if res.pruned is not None else "-"),
            ("energy", f"{energy:.4g} J" if np.isfinite(energy) else "-"),
            ("stopped early", res.stopped or "no"), ("wall time", f"{res.wall_time:.3g} s")]
    records = [(e.index, e.learned, e.n_steps, e.n_mistakes,
                f"{e.energy:.4g}" if np.isfinite(e.energy) else "-") for e in res.eras]
    return html_table("training run", rows, ["era", "learned", "steps", "mistakes",
                                             "energy (J)"], records)


DEFERRED = (
    ("memsim.solve.dc", "DCResult", dc_result_html),
    ("memsim.solve.transient", "TransientResult", transient_result_html),
    ("memsim.learn.result", "TrainResult", train_result_html),
)
"""(module, class, formatter) that :func:`register_ipython` hands to IPython."""


def register_ipython() -> bool:
    """Register the :data:`DEFERRED` HTML formatters with the running IPython shell (by class
    name, so nothing is imported); False when not running inside IPython."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return False
    formatter = shell.display_formatter.formatters["text/html"]
    for module, name, func in DEFERRED:
        formatter.for_type_by_name(module, name, func)
    return True
