"""``memsim fit``: fit a device model to measured data, compare models, store the fit."""

from __future__ import annotations

import argparse
import csv
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["add_commands"]

EPILOG = """\
DATA is a dataset shipped in measurements/ (adamlab_lea_1t1r_rram: its 19 RESET-branch I-V
cycles; crosssim_v2_lookup_example_pulse, aihwkit_gong_hfo2_pulse: pulse ramps), or files:
I-V sweeps (two columns: voltage in V, current in A; a glob like 'data/iv_*.txt' is fine),
or for --kind pulse either one file with an up and a down column, or two files of ramps
(SET first, then RESET; one ramp per column, read current in A at --read-voltage).

examples:
  memsim fit adamlab_lea_1t1r_rram --model vteam
  memsim fit adamlab_lea_1t1r_rram --compare --bootstrap 20
  memsim fit adamlab_lea_1t1r_rram --model vteam --write lea_1t1r_vteam
  memsim fit 'my_device/iv_*.txt' --model threshold --series none
  memsim fit crosssim_v2_lookup_example_pulse --model window --write crosssim_pulse_window

Output: the parameters with 95 % intervals (Jacobian; bootstrap over cycles with
--bootstrap), nRMS per cycle (RMS residual over the cycle's current range), AIC and BIC; an
overlay plot of every measured and fitted cycle with the residuals, and a CSV of the
residuals, in --out. --compare fits every model and prints a table. --write NAME stores the
fit as measurements/<dataset>/fits/NAME.toml, usable as the device preset
"measured:NAME"; nothing is written when the data or the fit fail.
The sweep's timing is not in I-V data: each point is taken to last --time-per-point."""

IV_MODELS = ("vteam", "threshold", "hp")


def add_commands(subparsers: Any) -> None:
    """Register ``fit`` on the ``memsim`` command."""
    from memsim.measure.pulse import PULSE_MODELS

    p = subparsers.add_parser(
        "fit", help="fit a device model to measured I-V or pulse data",
        description="Fit a memristor model to measured data by running the measured waveform "
        "through memsim's transient (I-V) or a rate law in pulse units (pulse ramps), with "
        "parameter intervals, goodness of fit and model comparison.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", nargs="+", help="a shipped dataset's name, or data files")
    p.add_argument("--model", default=None,
                   help=f"I-V: {', '.join(IV_MODELS)}; pulse: {', '.join(PULSE_MODELS)} "
                   "(with --compare: the one to plot and write; default the lowest AIC)")
    p.add_argument("--compare", action="store_true", help="fit every model, print a table")
    p.add_argument("--write", metavar="NAME", default=None,
                   help="store the fit as measurements/<dataset>/fits/NAME.toml")
    p.add_argument("--kind", choices=["iv", "pulse"], default=None,
                   help="what the files hold (default: the dataset's kind, else iv)")
    p.add_argument("--series", default="fit",
                   help="series element of the I-V cell: fit (a fitted resistor, 1T1R), "
                   "none, or a fixed resistance in ohm (default: fit)")
    p.add_argument("--per-cycle", default=None,
                   help="comma-separated parameters fitted per cycle (default: the model's, "
                   "r_on and the threshold)")
    p.add_argument("--cycles", type=int, default=None, help="fit only the first N cycles")
    p.add_argument("--bootstrap", type=int, default=0,
                   help="resamples over cycles (ramps) for bootstrap intervals (default: 0)")
    p.add_argument("--starts", type=int, default=3, help="starting points (default: 3)")
    p.add_argument("--time-per-point", type=float, default=1e-3,
                   help="assumed duration of one I-V point in s (default: 1e-3)")
    p.add_argument("--read-voltage", type=float, default=0.1,
                   help="read voltage of ramp files holding currents, V (default: 0.1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default: 0)")
    p.add_argument("--out", default="results", help="folder of the plot and CSV "
                   "(default: results)")
    p.set_defaults(func=_cmd_fit)


def _load(args: argparse.Namespace) -> tuple[str, Any, list[str], str]:
    """(kind, data, data file paths, label) from the command's DATA arguments."""
    from memsim.errors import ParameterError
    from memsim.measure.datasets import DATASETS
    from memsim.measure.readers import read_iv_cycles, read_pulse_columns, read_pulse_ramps

    if len(args.data) == 1 and args.data[0] in DATASETS:
        ds = DATASETS[args.data[0]]
        kind = args.kind or ds.kind
        if kind == "iv":
            part = "reset"
            return kind, ds.reset_cycles(), [str(p) for p in ds.files(part)], ds.name
        parts = ["pulse_pair"] if "pulse_pair" in ds.parts else ["pulse_set", "pulse_reset"]
        files = [str(p) for part in parts for p in ds.files(part)]
        return kind, ds.pulse_ramps(), files, ds.name
    kind = args.kind or "iv"
    if kind == "iv":
        sweeps = read_iv_cycles(args.data[0] if len(args.data) == 1 else args.data)
        return kind, sweeps, [s.source for s in sweeps], Path(sweeps[0].source).parent.name
    if len(args.data) == 1:
        return kind, read_pulse_columns(args.data[0]), list(args.data), Path(args.data[0]).stem
    if len(args.data) == 2:
        up = read_pulse_ramps(args.data[0], +1, read_voltage=args.read_voltage)
        down = read_pulse_ramps(args.data[1], -1, read_voltage=args.read_voltage)
        return kind, up + down, list(args.data), Path(args.data[0]).parent.name
    raise ParameterError("data", "pulse data is one file (up and down columns) or two "
                         "(SET ramps, RESET ramps)")


def _series(text: str) -> bool | float | None:
    from memsim.errors import ParameterError

    if text == "fit":
        return True
    if text == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        raise ParameterError("series", f"use fit, none or a resistance in ohm, got {text!r}"
                             ) from None
    return value


def _fit_one(kind: str, data: Any, model: str, args: argparse.Namespace) -> Any:
    from memsim.errors import ParameterError

    if kind == "iv":
        from memsim.measure.iv import fit_iv

        if model not in IV_MODELS:
            raise ParameterError("model", f"unknown I-V model {model!r}; use one of "
                                 f"{', '.join(IV_MODELS)}")
        per = args.per_cycle.split(",") if args.per_cycle else None
        return fit_iv(data, model, series=_series(args.series), per_cycle=per,
                      time_per_point=args.time_per_point, n_starts=args.starts,
                      bootstrap=args.bootstrap, seed=args.seed, progress=sys.stderr.isatty())
    from memsim.measure.pulse import fit_pulses

    return fit_pulses(data, model, bootstrap=args.bootstrap, seed=args.seed)


def _comparison(kind: str, fits: dict[str, Any]) -> str:
    best = min(f.aic for f in fits.values())
    lines = [f"{'model':<12}{'params':>7}{'nRMS median':>13}{'nRMS max':>10}{'AIC':>12}"
             f"{'dAIC':>9}{'BIC':>12}{'time (s)':>10}"]
    for name, f in sorted(fits.items(), key=lambda kv: kv[1].aic):
        if kind == "iv":
            med, worst = float(np.median(f.nrms)), float(f.nrms.max())
        else:
            med, worst = float(np.median(f.nrms_ramp)), float(f.nrms_ramp.max())
        lines.append(f"{name:<12}{f.n_params:>7}{med:>13.4f}{worst:>10.4f}{f.aic:>12.1f}"
                     f"{f.aic - best:>9.1f}{f.bic:>12.1f}{f.wall_time:>10.1f}")
    return "\n".join(lines)


def _write_residuals(path: Path, kind: str, fit: Any) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        if kind == "iv":
            w.writerow(["cycle", "point", "voltage_V", "measured_A", "fitted_A", "residual_A"])
            for c, (s, cur) in enumerate(zip(fit.sweeps, fit.currents, strict=True)):
                for k in range(s.n_points):
                    w.writerow([c + 1, k, s.voltage[k], s.current[k], cur[k],
                                s.current[k] - cur[k]])
        else:
            w.writerow(["ramp", "pulse", "direction", "measured", "fitted", "residual"])
            for j, (r, g) in enumerate(zip(fit.ramps, fit.fitted, strict=True)):
                for k in range(r.n_pulses):
                    w.writerow([j + 1, k + 1, r.direction, r.conductance[k], g[k],
                                r.conductance[k] - g[k]])


def _cmd_fit(args: argparse.Namespace) -> int:
    from memsim.errors import ParameterError
    from memsim.measure.pulse import PULSE_MODELS
    from memsim.measure.store import dataset_of, fit_document, pulse_document, write_fit

    if args.write is not None:
        from memsim.measure.store import check_name  # validate before fitting

        check_name(args.write)
    if args.cycles is not None and args.cycles < 1:
        raise ParameterError("cycles", f"must be >= 1, got {args.cycles}")
    if args.model is None and not args.compare:
        raise ParameterError("model", "give --model MODEL, or --compare to fit them all")
    kind, data, files, label = _load(args)
    if args.cycles is not None:
        data = data[:args.cycles]
        files = files[:args.cycles]
    models = IV_MODELS if kind == "iv" else PULSE_MODELS
    if args.model is not None and args.model not in models:
        raise ParameterError("model", f"unknown {kind} model {args.model!r}; use one of "
                             f"{', '.join(models)}")
    todo = list(models) if args.compare else [args.model]
    fits = {m: _fit_one(kind, data, m, args) for m in todo}
    chosen = args.model or min(fits, key=lambda m: fits[m].aic)
    fit = fits[chosen]
    print(fit.table())
    if args.compare:
        print(f"\nmodel comparison ({len(data)} {'cycles' if kind == 'iv' else 'ramps'}; "
              "nRMS: RMS residual over the range, per "
              f"{'cycle' if kind == 'iv' else 'ramp'}):")
        print(_comparison(kind, fits))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{label}_{chosen}"
    fit.plot(f"{stem}_fit.png")
    _write_residuals(Path(f"{stem}_residuals.csv"), kind, fit)
    print(f"wrote {stem}_fit.png and {stem}_residuals.csv")
    if args.write is not None:
        dataset, rel = dataset_of(files)
        command = "memsim fit " + " ".join(shlex.quote(a) for a in sys.argv[2:]) \
            if len(sys.argv) > 2 and sys.argv[1] == "fit" else \
            f"memsim fit {' '.join(args.data)} --model {chosen}"
        make = fit_document if kind == "iv" else pulse_document
        doc, comments = make(fit, args.write, dataset=dataset, data=rel, command=command)
        path = write_fit(doc, comments, args.write, dataset=dataset)
        print(f"stored the fit as {path} (preset \"measured:{args.write}\")")
    return 0
