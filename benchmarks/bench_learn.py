"""Training speed: learning from mistakes on paper_2x4x2, memsim against ngspice.

Issue 4's target: memsim's training steps per second at least 1000x those of the same protocol
driven through ngspice transients via PySpice (one ngspice run per phase, as a PySpice-based
study does it), with the same winners on a fixed pattern sequence.

The ngspice side is a plain Python loop over steps, as such a study would write it:

* read: a ``.op`` run with the states frozen (the active input at ``v_read``, the other
  floating, both outputs at 0 V ammeters), winner = larger ammeter current;
* on a mistake, inhibition and normalization: one ``.tran`` run each, started from the
  current states (``uic``); the final states are read back and carried to the next run;
* pruning in Python between runs (a pruned device is left out of the next netlist).

Netlists come from :func:`memsim.spice.to_netlist`. For threshold devices it writes memsim's
behavioural subcircuit when a node hangs on threshold devices only (every hidden node here):
ngspice's XSPICE ``memristor`` gives Newton no usable Jacobian there and the run stops with
"timestep too small" (see :func:`memsim.spice.threshold_form`). The fixed pattern sequence is
the alternating task's era 1 in task order (``shuffle=False``). Everything else is the default
protocol, including cycle-to-cycle noise: the ngspice loop applies the same noise factors,
drawn from the same generator in the same order as memsim's kernel (one normal per device
that moved in a pulse; a change below 1e-9 counts as no move: ngspice's state nodes leak by
~1e-15 per pulse through their 1e12 ohm DC path). Without noise the protocol drives every
device to R_on and the comparison would be trivial.

    .venv/bin/python benchmarks/bench_learn.py [--steps 60] [--seeds 0 1 2] [--substeps 4]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import memsim
from memsim.devices.models import Model
from memsim.learn import CircuitConfig, alternating_task, device_draw, train
from memsim.solve.drives import DC
from memsim.spice import DEFAULT_OPTIONS, names, run_shared, spice_states, to_netlist


def spice_training(net, task, config: CircuitConfig, params, x0, max_steps: int,
                   rng: np.random.Generator, points: int = 100) -> dict:
    """The protocol driven through ngspice, one run per phase, era by era."""
    cur = net.with_params(params)
    x = x0.copy()
    mem = np.flatnonzero(net.memristive)
    winners, runs = [], 0
    read_time = write_time = 0.0
    start = time.perf_counter()
    for targets in task.eras:
        steps = clean = 0
        while steps < max_steps:
            p = steps % task.n_patterns
            pat = task.patterns[p]
            t0 = time.perf_counter()
            drive = [DC(float(config.v_read * v)) if v else None for v in pat]
            run = run_shared(to_netlist(cur, drive, op=True, state=x))
            runs += 1
            nm = names(cur)
            iout = np.array([run[f"i(vout_{nm.nodes[o]})"][0] for o in cur.outputs])
            w = int(np.argmax(iout)) if iout.max() > config.min_current else -1
            winners.append(w)
            steps += 1
            read_time += time.perf_counter() - t0
            if w == targets[p]:
                clean += 1
                if clean >= task.n_patterns and p == task.n_patterns - 1:
                    break  # a clean pass: era learned (memsim moves on here too)
                continue
            clean = 0
            t0 = time.perf_counter()
            phases = []
            if w >= 0:
                only = np.zeros(len(cur.outputs), bool)
                only[w] = True
                phases.append(([DC(float(config.v_inhibit * v)) if v else None for v in pat],
                               only, config.t_inhibit))
            phases.append(([DC(config.v_normalize)] * len(cur.inputs),
                           np.ones(len(cur.outputs), bool), config.t_normalize))
            for drive, grounded, duration in phases:
                text = to_netlist(cur, drive, t_end=duration, t_step=duration / points,
                                  state=x, outputs=grounded, options=DEFAULT_OPTIONS)
                run = run_shared(text)
                runs += 1
                live = mem[cur.model[mem] != Model.OPEN]
                new = x.copy()
                new[live] = np.clip(spice_states(cur, run, live)[-1], 0.0, 1.0)
                for e in range(net.n_edges):  # cycle-to-cycle noise, as memsim draws it
                    d = new[e] - x[e]
                    if abs(d) <= 1e-9:
                        new[e] = x[e]
                    elif config.c2c_noise > 0:
                        f = max(0.0, 1.0 + config.c2c_noise * rng.standard_normal())
                        new[e] = min(1.0, max(0.0, x[e] + d * f))
                x = new
                if config.prune_state is not None:
                    cut = (cur.model != Model.OPEN) & cur.memristive & (x <= config.prune_state)
                    if cut.any():
                        cur = cur.pruned(cut | (cur.model == Model.OPEN))
            write_time += time.perf_counter() - t0
    wall = time.perf_counter() - start
    return {"winners": np.array(winners), "wall": wall, "runs": runs, "x": x,
            "read_time": read_time, "write_time": write_time}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=60, help="step budget per era")
    ap.add_argument("--eras", type=int, default=3)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--repeat", type=int, default=300, help="memsim timing repetitions")
    ap.add_argument("--substeps", type=int, default=CircuitConfig().substeps)
    args = ap.parse_args()

    net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    task = alternating_task(args.eras)
    config = CircuitConfig(shuffle=False, substeps=args.substeps)
    print(f"paper_2x4x2, alternating task ({args.eras} eras) in task order, budget "
          f"{args.steps} steps per era, RK4 sub-steps {config.substeps}, other settings default")
    totals = np.zeros(4)  # memsim steps, memsim seconds, ngspice steps, ngspice seconds
    all_same = True
    for seed in args.seeds:
        params, x0 = device_draw(net, config, np.random.SeedSequence(seed).spawn(2)[0])
        ref = train(net, task, config, seed=seed, max_steps=args.steps)
        assert np.array_equal(ref.params, params)
        t = time.perf_counter()
        for _ in range(args.repeat):  # whole runs, Python overhead included
            train(net, task, config, seed=seed, max_steps=args.steps)
        memsim_wall = (time.perf_counter() - t) / args.repeat
        dyn_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1])
        spice = spice_training(net, task, config, params, x0, args.steps, dyn_rng)
        same = len(spice["winners"]) == ref.n_steps and np.array_equal(
            spice["winners"], ref.records.winner)
        all_same &= bool(same)
        dx = np.abs(spice["x"] - ref.final_state).max() if same else float("nan")
        rate_m, rate_s = ref.n_steps / memsim_wall, len(spice["winners"]) / spice["wall"]
        totals += (ref.n_steps, memsim_wall, len(spice["winners"]), spice["wall"])
        print(f"seed {seed}: {ref.n_steps} steps, {ref.n_mistakes} mistakes, eras learned "
              f"{[e.learned for e in ref.eras]}; winners identical: {same}, final states "
              f"differ by {dx:.1e}")
        print(f"  memsim  {rate_m:12,.0f} steps/s ({memsim_wall * 1e3:.2f} ms per run)")
        print(f"  ngspice {rate_s:12,.1f} steps/s ({spice['runs']} runs, {spice['wall']:.2f} s; "
              f"reads {spice['read_time']:.2f} s, writes {spice['write_time']:.2f} s)")
        print(f"  speed-up {rate_m / rate_s:,.0f}x")
    rate_m, rate_s = totals[0] / totals[1], totals[2] / totals[3]
    print(f"all seeds: memsim {rate_m:,.0f} steps/s, ngspice {rate_s:,.1f} steps/s, "
          f"speed-up {rate_m / rate_s:,.0f}x (target >= 1000x); winners identical on every "
          f"step of every seed: {all_same}")


if __name__ == "__main__":
    main()
