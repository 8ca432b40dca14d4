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

    .venv/bin/python benchmarks/bench_learn.py [--steps 40] [--seed 3]
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


def spice_training(net, task, config: CircuitConfig, params, x0, n_steps: int,
                   rng: np.random.Generator, points: int = 100) -> dict:
    """The protocol driven through ngspice, one run per phase."""
    cur = net.with_params(params)
    x = x0.copy()
    mem = np.flatnonzero(net.memristive)
    targets = task.targets
    winners, runs = [], 0
    start = time.perf_counter()
    clean = 0
    for step in range(n_steps):
        p = step % task.n_patterns
        pat = task.patterns[p]
        drive = [DC(float(config.v_read * v)) if v else None for v in pat]
        run = run_shared(to_netlist(cur, drive, op=True, state=x))
        runs += 1
        nm = names(cur)
        iout = np.array([run[f"i(vout_{nm.nodes[o]})"][0] for o in cur.outputs])
        w = int(np.argmax(iout)) if iout.max() > config.min_current else -1
        winners.append(w)
        if w == targets[p]:
            clean += 1
            if clean >= task.n_patterns and p == task.n_patterns - 1:
                break  # a clean pass: learned (memsim stops here too)
            continue
        clean = 0
        phases = []
        if w >= 0:
            only = np.zeros(len(cur.outputs), bool)
            only[w] = True
            phases.append(([DC(float(config.v_inhibit * v)) if v else None for v in pat],
                           only, config.t_inhibit))
        phases.append(([DC(config.v_normalize)] * len(cur.inputs),
                       np.ones(len(cur.outputs), bool), config.t_normalize))
        for drive, grounded, duration in phases:
            text = to_netlist(cur, drive, t_end=duration, t_step=duration / points, state=x,
                              outputs=grounded, options=DEFAULT_OPTIONS)
            run = run_shared(text)
            runs += 1
            live = mem[cur.model[mem] != Model.OPEN]
            new = x.copy()
            new[live] = np.clip(spice_states(cur, run, live)[-1], 0.0, 1.0)
            for e in range(net.n_edges):  # cycle-to-cycle noise, as memsim draws it
                d = new[e] - x[e]
                if abs(d) > 1e-9 and config.c2c_noise > 0:
                    f = max(0.0, 1.0 + config.c2c_noise * rng.standard_normal())
                    new[e] = min(1.0, max(0.0, x[e] + d * f))
                elif abs(d) <= 1e-9:
                    new[e] = x[e]
            x = new
            if config.prune_state is not None:
                cut = (cur.model != Model.OPEN) & cur.memristive & (x <= config.prune_state)
                if cut.any():
                    cur = cur.pruned(cut | (cur.model == Model.OPEN))
    wall = time.perf_counter() - start
    return {"winners": np.array(winners), "wall": wall, "runs": runs, "x": x}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=40, help="step budget of the comparison")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=2000, help="memsim timing repetitions")
    ap.add_argument("--substeps", type=int, default=CircuitConfig().substeps)
    args = ap.parse_args()

    net = memsim.load(memsim.circuit_path("paper_2x4x2"))
    task = alternating_task(1)
    config = CircuitConfig(shuffle=False, substeps=args.substeps)
    ss = np.random.SeedSequence(args.seed)
    dyn_rng = np.random.default_rng(np.random.SeedSequence(args.seed).spawn(2)[1])
    params, x0 = device_draw(net, config, np.random.SeedSequence(args.seed).spawn(2)[0])

    ref = train(net, task, config, seed=ss, max_steps=args.steps, record_states=True)
    assert np.array_equal(ref.params, params)
    # memsim speed: the whole run, repeated (kernel compiled by the call above)
    t = time.perf_counter()
    total_steps = 0
    for _ in range(args.repeat):
        r = train(net, task, config, seed=ss, max_steps=args.steps)
        total_steps += r.n_steps
    memsim_wall = time.perf_counter() - t
    memsim_rate = total_steps / memsim_wall
    kernel_rate = ref.n_steps / ref.wall_time

    spice = spice_training(net, task, config, params, x0, args.steps, dyn_rng)
    n = min(len(spice["winners"]), ref.n_steps)
    same = np.array_equal(spice["winners"], ref.records.winner[: len(spice["winners"])]) and \
        len(spice["winners"]) == ref.n_steps
    spice_rate = len(spice["winners"]) / spice["wall"]
    dx = np.abs(spice["x"] - ref.final_state).max() if same else float("nan")

    print(f"paper_2x4x2, alternating era 1 in task order, seed {args.seed}, "
          f"budget {args.steps} steps")
    print(f"memsim : {ref.n_steps} steps ({ref.n_mistakes} mistakes, learned={ref.learned}); "
          f"{memsim_rate:,.0f} steps/s over {args.repeat} whole runs "
          f"(kernel alone {kernel_rate:,.0f} steps/s)")
    print(f"ngspice: {len(spice['winners'])} steps, {spice['runs']} ngspice runs in "
          f"{spice['wall']:.2f} s: {spice_rate:,.1f} steps/s")
    print(f"winners identical on all {n} steps: {same}; "
          f"largest final state difference {dx:.2e}")
    print(f"speed-up memsim / ngspice: {memsim_rate / spice_rate:,.0f}x (target >= 1000x)")


if __name__ == "__main__":
    main()
