"""``memsim rule eprop`` and ``memsim rule hybrid``: the online spiking rules on the digits."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np

__all__ = ["add_commands", "add_eprop", "add_hybrid"]

log = logging.getLogger(__name__)

EPROP_EPILOG = """\
examples:
  memsim rule eprop                                  e-prop, random feedback, 100 neurons
  memsim rule eprop --feedback symmetric --epochs 10
  memsim rule eprop --method rtrl --hidden 16 --epochs 2 --train 300    exact RTRL (slow)
  memsim rule eprop --update-every step               apply every step's update at once

The digits' 8 rows are 8 time steps of 8 analog inputs (--encoding rows), or all 64 pixels
as Bernoulli spike trains (--encoding spikes). The last line reports the test accuracy.
"""

HYBRID_EPILOG = """\
examples:
  memsim rule hybrid                                 hybrid global-local model on the digits
  memsim rule hybrid --global-only                   the same network without the local trace
  memsim rule hybrid --task faults --fault-fraction 0.1
  memsim rule hybrid --task faults --train-faults 0.1   fault-aware meta-training
  memsim rule hybrid --task continual --epochs 5     classes {0,1}, {2,3}, ... in sequence

--task faults trains, sticks a share of W at its extreme values, then lets only the local
trace adapt; --task continual trains the class pairs in sequence. The last line reports the
test accuracy (faults: after local adaptation; continual: over all classes at the end).
"""


def add_commands(sub: Any) -> None:
    """Add ``memsim rule {eprop,hybrid}`` to the ``memsim`` subcommands."""
    p = sub.add_parser("rule", help="train a learning rule of the seed papers on the digits",
                       description="Learning rules that run on weight stores (float weights "
                       "or crossbar tiles). Run `memsim rule NAME --help`.")
    rules = p.add_subparsers(title="rules", metavar="NAME")
    add_eprop(rules)
    add_hybrid(rules)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _common(p: argparse.ArgumentParser, hidden: int, epochs: int) -> None:
    p.add_argument("--hidden", type=int, default=hidden,
                   help=f"hidden LIF neurons (default: {hidden})")
    p.add_argument("--epochs", type=int, default=epochs,
                   help=f"passes over the training set (default: {epochs})")
    p.add_argument("--train", type=int, default=None, metavar="N",
                   help="use only the first N training digits (default: all 1,348)")
    p.add_argument("--seed", type=int, default=0, help="seed of weights, data split, batches")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def add_eprop(sub: Any) -> None:
    """``memsim rule eprop``."""
    p = sub.add_parser("eprop", help="e-prop / RTRL in a recurrent LIF network",
                       description="Online learning in a recurrent LIF network: block-diagonal "
                       "eligibility traces (e-prop) or exact RTRL, on sequential digits.",
                       epilog=EPROP_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(p, 100, 20)
    p.add_argument("--method", choices=["eprop", "rtrl"], default="eprop",
                   help="eprop (block-diagonal, default) or rtrl (exact, O(n^4) per step)")
    p.add_argument("--feedback", choices=["random", "symmetric"], default="random",
                   help="learning signal of the hidden neurons: fixed random matrix "
                   "(default) or W_out")
    p.add_argument("--encoding", choices=["rows", "spikes"], default="rows",
                   help="rows: 8 steps of 8 analog inputs (default); spikes: 64 spike trains")
    p.add_argument("--batch", type=int, default=32, help="sequences per update (default: 32)")
    p.add_argument("--lr", type=float, default=3e-3, help="Adam step size (default: 3e-3)")
    p.add_argument("--update-every", choices=["sequence", "step"], default="sequence",
                   help="apply updates after each batch (default) or after every step")
    p.set_defaults(func=_cmd_eprop)


def add_hybrid(sub: Any) -> None:
    """``memsim rule hybrid``."""
    p = sub.add_parser("hybrid", help="hybrid global-local plasticity (W by BPTT, local P)",
                       description="Hybrid global-local plasticity (Wu et al. 2022): W by "
                       "gradient, a local Hebbian trace P with decay and bounds, its "
                       "coefficients meta-learned (JAX), on spike-encoded digits.",
                       epilog=HYBRID_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(p, 200, 15)
    p.add_argument("--task", choices=["digits", "faults", "continual"], default="digits",
                   help="what to run (default: digits)")
    p.add_argument("--steps", type=int, default=8, help="spike-train length (default: 8)")
    p.add_argument("--global-only", action="store_true",
                   help="train without the local trace (alpha = 0): the baseline")
    p.add_argument("--train-faults", type=float, default=0.0, metavar="SHARE",
                   help="fault-aware training: this share of W stuck anew in every batch "
                   "(default: 0, the paper's training)")
    p.add_argument("--fault-fraction", type=float, default=0.1,
                   help="share of W stuck at its extreme values for --task faults "
                   "(default: 0.1)")
    p.set_defaults(func=_cmd_hybrid)


def _cmd_eprop(args: argparse.Namespace) -> int:
    from memsim.rules.online.data import digit_sequences
    from memsim.rules.online.eprop import OnlineConfig, train_online

    cfg = OnlineConfig(n_hidden=args.hidden, method=args.method, feedback=args.feedback,
                       epochs=args.epochs, batch=args.batch, lr=args.lr,
                       update_every=args.update_every)
    data = digit_sequences(args.encoding, seed=args.seed).subset(args.train)
    res = train_online(data, cfg, seed=args.seed, progress=not args.no_progress)
    for row in res.history:
        print(f"epoch {int(row['epoch']):3d}  loss {row['loss']:.4f}  train "
              f"{row['train_accuracy']:.3f}  test {row['test_accuracy']:.3f}")
    stats = res.net.w_rec.stats
    print(f"{cfg.method} ({cfg.feedback} feedback), {cfg.n_hidden} neurons: {stats.updates} "
          f"updates per store")
    print(f"test accuracy {res.test_accuracy:.4f}")
    return 0


def _cmd_hybrid(args: argparse.Namespace) -> int:
    from memsim.errors import ParameterError
    from memsim.rules.online.data import digit_sequences
    from memsim.rules.online.hybrid import (
        HybridTraining,
        continual,
        fault_tolerance,
        train_hybrid,
    )

    cfg = HybridTraining(n_hidden=args.hidden, epochs=args.epochs, plastic=not args.global_only,
                         train_faults=args.train_faults)
    data = digit_sequences("spikes", steps=args.steps, seed=args.seed).subset(args.train)
    progress = not args.no_progress
    if args.task == "continual":
        groups = [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
        acc = continual(data, groups, cfg, seed=args.seed, progress=progress)
        for k, row in enumerate(acc):
            print(f"after task {k} {groups[k]}: " + " ".join(f"{a:.3f}" for a in row))
        counts = np.array([np.isin(data.y_test, g).sum() for g in groups])
        print(f"test accuracy {float(acc[-1] @ counts / counts.sum()):.4f}")
        return 0
    if not 0.0 <= args.fault_fraction <= 1.0:
        raise ParameterError("fault-fraction", f"must lie in [0, 1], got {args.fault_fraction}")
    res = train_hybrid(data, cfg, seed=args.seed, progress=progress)
    for row in res.history:
        print(f"epoch {int(row['epoch']):3d}  loss {row['loss']:.4f}  test "
              f"{row['test_accuracy']:.3f}")
    if args.task == "digits":
        print(f"test accuracy {res.test_accuracy:.4f}")
        return 0
    out = fault_tolerance(res, data, fraction=args.fault_fraction, seed=args.seed)
    print(f"clean {out['clean']:.3f} (trace frozen {out['clean_frozen']:.3f}); "
          f"{args.fault_fraction:.0%} stuck: {out['faulty_frozen']:.3f} without local "
          f"plasticity, {out['faulty_plastic']:.3f} with it; recovered {out['recovered']:.2f} "
          "of the loss")
    print(f"test accuracy {out['faulty_plastic']:.4f}")
    return 0
