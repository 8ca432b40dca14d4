"""``memsim train``: learning from mistakes over many seeds, with a summary table and plots."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np

from memsim.errors import ParameterError

__all__ = ["add_commands", "summary_table"]

log = logging.getLogger(__name__)

EPILOG = """\
examples:
  memsim train circuits/paper_2x4x2.toml --task alternating --eras 3 --seeds 100
  memsim train paper_2x4x2 --task random --patterns 3 --binary --seeds 50
  memsim train paper_2x4x2 --set v_normalize=2.6 --set prune_state=none --out results/weak

--set takes any field of memsim.learn.CircuitConfig (see its docstring for the reasons
behind each default); numbers take SI units (V, s, A).
"""


def _load(spec: str):  # -> Network
    from memsim.circuit import circuit_path, load

    path = Path(spec)
    if not path.exists() and path.suffix == "" and "/" not in spec:
        path = circuit_path(spec)
    return load(path)


def _config(items: list[str] | None):  # -> CircuitConfig
    from memsim.learn import CircuitConfig

    fields = {f.name: f for f in dataclasses.fields(CircuitConfig)}
    changes: dict[str, Any] = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in fields:
            raise ParameterError("set", f"expected FIELD=VALUE with FIELD one of "
                                 f"{', '.join(fields)}; got {item!r}")
        default = getattr(CircuitConfig(), key)
        text = text.strip()
        value: Any
        if text.lower() == "none":
            value = None
        elif isinstance(default, bool):
            if text.lower() not in ("true", "false", "1", "0"):
                raise ParameterError(key, f"expected true or false, got {text!r}")
            value = text.lower() in ("true", "1")
        elif isinstance(default, int) and not isinstance(default, bool):
            try:
                value = int(text)
            except ValueError:
                raise ParameterError(key, f"expected an integer, got {text!r}") from None
        elif isinstance(default, str):
            value = text
        else:
            try:
                value = float(text)
            except ValueError:
                raise ParameterError(key, f"expected a number, got {text!r}") from None
        changes[key] = value
    return CircuitConfig(**changes)


def summary_table(results: list, *, label: str = "") -> str:
    """Per-era success rate (Wilson 95 % interval), median steps to learn and energy.

    >>> import memsim
    >>> from memsim.learn import alternating_task, train
    >>> net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    >>> runs = [train(net, alternating_task(2), seed=s) for s in range(4)]
    >>> print(summary_table(runs).splitlines()[0].split()[:3])
    ['era', 'learned', 'rate']
    """
    from memsim.learn import wilson_interval

    n_eras = len(results[0].eras)
    head = f"{'era':>4} {'learned':>9} {'rate':>6} {'95% CI':>13} {'median steps':>13} " \
           f"{'median mistakes':>16} {'median energy (J)':>18}"
    lines = [head]
    for k in range(n_eras):
        ok = [r for r in results if r.eras[k].learned]
        lo, hi = wilson_interval(len(ok), len(results))
        steps = np.median([r.eras[k].steps_to_learn for r in ok]) if ok else float("nan")
        mistakes = np.median([r.eras[k].n_mistakes for r in results])
        energy = np.median([r.eras[k].energy for r in results])
        lines.append(f"{k + 1:>4} {len(ok):>4}/{len(results):<4} {len(ok) / len(results):>6.2f} "
                     f"{lo:>6.2f}-{hi:<6.2f} {steps:>13.1f} {mistakes:>16.1f} {energy:>18.3g}")
    all_ok = sum(r.learned for r in results)
    lo, hi = wilson_interval(all_ok, len(results))
    lines.append(f"{'all':>4} {all_ok:>4}/{len(results):<4} {all_ok / len(results):>6.2f} "
                 f"{lo:>6.2f}-{hi:<6.2f}")
    if label:
        lines.insert(0, label)
    return "\n".join(lines)


def _plots(results: list, out: Path, stem: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from memsim.learn import wilson_interval

    written = []
    # 1. conductance map over time of the first run (recorded with states)
    first = results[0]
    fig = first.plot()
    path = out / f"{stem}_conductance.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    written.append(path)
    # 2. power per step. Left: read power, step-aligned over seeds (runs drop out when they
    # stop). Right: energy per step within each era, step counted from the era's start, mean
    # over all runs. A step costs a read (~nJ) or a read plus two write pulses (~0.1 mJ), so
    # the mean is about the mistake rate times the write energy. A run that has learned the
    # era would from then on only read (reads below threshold change nothing, so its answers
    # stay right): it contributes the mean read energy of its clean pass. A run stopped early
    # (no era learnable any more) drops out.
    length = max(len(r.records) for r in results)
    read = np.full((len(results), length), np.nan)
    for k, r in enumerate(results):
        read[k, : len(r.records)] = r.records.power
    steps = np.arange(1, length + 1)
    alive = np.sum(np.isfinite(read), axis=0) >= max(1, len(results) // 4)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    with np.errstate(all="ignore"):
        med = np.nanmedian(read[:, alive], axis=0)
        q1 = np.nanpercentile(read[:, alive], 25, axis=0)
        q3 = np.nanpercentile(read[:, alive], 75, axis=0)
    axes[0].semilogy(steps[alive], np.maximum(med, 1e-30), lw=1, label="median over runs")
    axes[0].fill_between(steps[alive], np.maximum(q1, 1e-30), np.maximum(q3, 1e-30),
                         alpha=0.3, label="25-75 % (runs still training)")
    for k in range(1, len(first.eras)):
        starts = [r.eras[k].start_step for r in results if r.eras[k].n_steps]
        if starts:
            axes[0].axvline(np.median(starts) + 0.5, color="gray", ls=":", lw=1)
    axes[0].set(xlabel="step (all eras; dotted: median start of each era)",
                ylabel="read power (W)", title="read power per step")
    axes[0].legend(fontsize=8)
    for k in range(len(first.eras)):
        span = max(r.eras[k].n_steps for r in results)
        if span == 0:
            continue
        per_era = np.full((len(results), span), np.nan)
        for j, r in enumerate(results):
            era = r.eras[k]
            e = r.records.energy[era.start_step:era.start_step + era.n_steps].sum(axis=1)
            per_era[j, : e.size] = e
            if era.learned:
                per_era[j, e.size:] = r.records.energy[
                    era.start_step + era.n_steps - r.task.n_patterns:
                    era.start_step + era.n_steps, 0].mean()
        with np.errstate(all="ignore"):
            mean_e = np.nanmean(per_era, axis=0)
        axes[1].semilogy(np.arange(1, span + 1), np.maximum(mean_e, 1e-30), lw=1,
                         label=f"era {k + 1}")
    axes[1].set(xlabel="step within the era", ylabel="energy per step (J)",
                title="energy per step, mean over runs", xscale="log")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    path = out / f"{stem}_power.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    written.append(path)
    # 3. success per era with Wilson intervals
    n_eras = len(first.eras)
    rate, lo, hi = [], [], []
    for k in range(n_eras):
        s = sum(r.eras[k].learned for r in results)
        a, b = wilson_interval(s, len(results))
        rate.append(s / len(results))
        lo.append(max(0.0, rate[-1] - a))
        hi.append(max(0.0, b - rate[-1]))
    fig, ax = plt.subplots(figsize=(4.5, 3.6))
    ax.errorbar(np.arange(1, n_eras + 1), rate, yerr=[lo, hi], fmt="o-", capsize=4)
    ax.set(xlabel="era", ylabel="fraction of seeds learned", ylim=(0, 1.05),
           xticks=np.arange(1, n_eras + 1), title=f"success per era (n = {len(results)})")
    fig.tight_layout()
    path = out / f"{stem}_success.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    written.append(path)
    return written


def _cmd_train(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from memsim.learn import alternating_task, parity_task, random_task, train

    net = _load(args.circuit)
    config = _config(args.set)
    if args.seeds < 1:
        raise ParameterError("seeds", f"need at least one seed, got {args.seeds}")
    if args.eras < 1:
        raise ParameterError("eras", f"need at least one era, got {args.eras}")
    n_in, n_out = len(net.inputs), len(net.outputs)
    children = np.random.SeedSequence(args.seed).spawn(args.seeds)
    results = []
    for k, child in enumerate(tqdm(children, desc=f"train {net.name}", unit="seed",
                                   disable=args.quiet)):
        task_seed, run_seed = child.spawn(2)
        if args.task == "alternating":
            task = alternating_task(args.eras, n_inputs=n_in, n_outputs=n_out)
        elif args.task == "parity":
            if n_out != 2:
                raise ParameterError("task", f"parity needs 2 outputs, {net.name} has {n_out}")
            task = parity_task(n_in)
        else:
            base = random_task(n_in, n_out, args.patterns, seed=task_seed,
                               one_hot=not args.binary)
            if args.eras > 1:
                rng = np.random.default_rng(task_seed.spawn(1)[0])
                eras = [base.targets.tolist()] + [
                    rng.integers(0, n_out, base.n_patterns).tolist()
                    for _ in range(args.eras - 1)]
                base = base.with_eras(eras, name=f"random_{args.patterns}x{args.eras}")
            task = base
        results.append(train(net, task, config, seed=run_seed, max_steps=args.max_steps,
                             record_states=k == 0))
    label = (f"{net.name}: task {results[0].task.name}, {args.seeds} seeds, budget "
             f"{args.max_steps or config.max_steps} steps per era")
    print(summary_table(results, label=label))
    pruned = np.mean([0 if r.pruned is None else r.pruned.sum() for r in results])
    wall = sum(r.wall_time for r in results)
    steps = sum(r.n_steps for r in results)
    print(f"mean pruned devices {pruned:.2f} of {net.n_memristors}; {steps} steps in "
          f"{wall:.3g} s ({steps / max(wall, 1e-12):.3g} steps/s)")
    if not args.no_plots:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        paths = _plots(results, out, f"{net.name}_{results[0].task.name}")
        print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def add_commands(subparsers: Any) -> None:
    """Register ``memsim train``."""
    p = subparsers.add_parser(
        "train", help="train a circuit by learning from mistakes over many seeds",
        description="Learning from mistakes (read, inhibition, normalization, pruning) on a "
        "circuit, repeated over independent seeds. Prints the success rate per era with a "
        "Wilson 95%% interval, median steps to learn and energy; writes plots of the "
        "conductance map over time (first seed), power per step and success per era.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("circuit", help="circuit file (.toml) or the name of a shipped circuit")
    p.add_argument("--task", choices=["alternating", "random", "parity"], default="alternating",
                   help="alternating: A, swap, A, ... (default); random: random P-pattern "
                   "mapping per seed (new random targets each era); parity: input k -> k mod 2")
    p.add_argument("--eras", type=int, default=3, help="training eras (default: 3)")
    p.add_argument("--patterns", type=int, default=2, help="patterns of --task random")
    p.add_argument("--binary", action="store_true",
                   help="--task random with binary input vectors instead of one-hot")
    p.add_argument("--seeds", type=int, default=100, help="independent runs (default: 100)")
    p.add_argument("--seed", type=int, default=0, help="root seed (default: 0)")
    p.add_argument("--max-steps", type=int, default=None,
                   help="step budget per era (default: the config's, 400)")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="override a CircuitConfig field, repeatable")
    p.add_argument("--out", default="results", help="folder for the plots (default: results)")
    p.add_argument("--no-plots", action="store_true", help="print the table only")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_train)
