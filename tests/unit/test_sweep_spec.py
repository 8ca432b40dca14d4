"""Sweep files: grid expansion, deterministic task keys, one-line validation errors."""

from pathlib import Path

import pytest

from memsim.sweep import SweepFileError, load_sweep, parse_sweep

ROOT = Path(__file__).resolve().parents[2]

BASE = """
[sweep]
name = "t"
seed = 5
repetitions = 5
block = 2

[[grid]]
label = "full"
model = "circuit"
topology = "layered"
sizes = [[2, 2, 2], [3, 3, 3]]
connectivity = [1.0, 0.5]
learning = { x0_spread = [0.0, 0.2] }
P = { from = 1, to = "inputs" }

[[grid]]
label = "abstract"
model = "abstract"
sizes = [2, 4, 2]
P = [2]
"""


def test_grid_expands_into_the_product_of_its_lists():
    spec = parse_sweep(BASE)
    circuit = [p for p in spec.points if p.params["model"] == "circuit"]
    # 2 sizes x 2 connectivities x 2 x0 spreads
    assert len(circuit) == 8
    combos = {(tuple(p.params["sizes"]), p.params["connectivity"],
               p.params["learning"]["x0_spread"]) for p in circuit}
    assert len(combos) == 8
    # P runs from 1 to the number of inputs of each point
    assert {tuple(p.params["sizes"]): p.patterns for p in circuit} == {
        (2, 2, 2): (1, 2), (3, 3, 3): (1, 2, 3)}
    (abstract,) = [p for p in spec.points if p.params["model"] == "abstract"]
    assert abstract.params["sizes"] == [2, 4, 2] and abstract.patterns == (2,)


def test_defaults_are_filled_in_so_keys_see_them():
    p = parse_sweep(BASE).points[0].params
    from memsim.devices import preset
    from memsim.learn import CircuitConfig

    assert p["device"] == "pershin2011" and p["spread"] == 0.0
    assert p["device_params"]["r_off"] == preset("pershin2011").r_off
    assert p["learning"]["v_inhibit"] == CircuitConfig().v_inhibit
    assert p["one_hot"] is True


def test_blocks_cover_the_repetitions_once():
    spec = parse_sweep(BASE)
    tasks = [t for t in spec.tasks() if t.point == spec.points[0].params and t.n_patterns == 1]
    assert [(t.block, t.rep_start, t.n_reps) for t in tasks] == [(0, 0, 2), (1, 2, 2),
                                                                 (2, 4, 1)]
    n_tasks = sum(len(p.patterns) * 3 for p in spec.points)  # 5 repetitions in blocks of 2
    assert len(spec.tasks()) == n_tasks


def test_no_block_means_one_task_per_point_and_P():
    spec = parse_sweep(BASE.replace("block = 2\n", ""))
    assert all(t.n_reps == 5 and t.block == 0 for t in spec.tasks())


def test_task_keys_are_unique_and_deterministic():
    keys = [t.key for t in parse_sweep(BASE).tasks()]
    assert len(set(keys)) == len(keys)
    assert keys == [t.key for t in parse_sweep(BASE).tasks()]


def test_task_keys_do_not_depend_on_the_order_of_the_file():
    head, first, second = BASE.split("[[grid]]")
    swapped = head + "[[grid]]" + second + "\n[[grid]]" + first
    reordered = swapped.replace("[[2, 2, 2], [3, 3, 3]]", "[[3, 3, 3], [2, 2, 2]]")
    assert {t.key for t in parse_sweep(reordered).tasks()} == {
        t.key for t in parse_sweep(BASE).tasks()}


def test_task_keys_change_with_the_seed_and_only_with_the_changed_point():
    base = {t.key for t in parse_sweep(BASE).tasks()}
    assert not base & {t.key for t in parse_sweep(BASE.replace("seed = 5", "seed = 6")).tasks()}
    changed = parse_sweep(BASE.replace("P = [2]", "P = [2]\nlearning = { delta = 0.2 }"))
    new = {t.key for t in changed.tasks()} - base
    assert new and all(t.point["model"] == "abstract" for t in changed.tasks() if t.key in new)


def test_numbers_are_canonical_whatever_their_toml_type():
    a = parse_sweep(BASE.replace("connectivity = [1.0, 0.5]", "connectivity = [1, 0.5]"))
    assert {t.key for t in a.tasks()} == {t.key for t in parse_sweep(BASE).tasks()}


def test_demo_sweep_file_is_valid():
    spec = load_sweep(ROOT / "sweeps" / "demo.toml")
    assert spec.name == "demo" and len(spec.tasks()) == 84  # as its comments say


@pytest.mark.parametrize("path", sorted((ROOT / "sweeps").glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_sweep_file_is_valid(path):
    assert load_sweep(path).tasks()


def test_demo_checks_share_the_demos_trials():
    """demo_checks.toml extends the demo: same seed, same R, so the same (P, r) trials."""
    demo, checks = (load_sweep(ROOT / "sweeps" / f) for f in ("demo.toml", "demo_checks.toml"))
    assert (checks.seed, checks.block) == (demo.seed, demo.block)
    assert {p.repetitions for p in checks.points} == {p.repetitions for p in demo.points}
    assert not {t.key for t in checks.tasks()} & {t.key for t in demo.tasks()}


@pytest.mark.parametrize(("old", "new", "key", "hint"), [
    ("name = \"t\"", "name = \"t", "", "not valid TOML"),
    ("[sweep]", "[sweeep]", "sweeep", "allowed here: grid, sweep"),
    ("seed = 5", "", "sweep.seed", "missing"),
    ("seed = 5", "seed = -1", "sweep.seed", "integer >= 0"),
    ("repetitions = 5", "repetitions = 0", "sweep.repetitions", "integer >= 1"),
    ("block = 2", "blocks = 2", "sweep.blocks", "allowed here: block, name, repetitions"),
    ("topology = \"layered\"", "topology = \"ring\"", "grid[0].topology",
     "allowed: crossbar, layered, random"),
    ("model = \"circuit\"", "model = \"spiking\"", "grid[0].model",
     "allowed: abstract, circuit"),
    ("model = \"abstract\"", "model = \"abstract\"\ntopology = \"random\"", "grid[1].topology",
     "allowed: layered"),
    ("label = \"full\"", "label = \"full\"\nwidth = 3", "grid[0].width", "allowed here:"),
    ("sizes = [[2, 2, 2], [3, 3, 3]]", "", "grid[0].sizes", "missing"),
    ("sizes = [[2, 2, 2], [3, 3, 3]]", "sizes = [[2, 0, 2]]", "grid[0].sizes", ">= 1"),
    ("sizes = [2, 4, 2]", "sizes = [2, 2]", "grid[1].sizes", ">= 3"),
    ("connectivity = [1.0, 0.5]", "connectivity = 1.5", "grid[0].connectivity", "(0, 1]"),
    ("connectivity = [1.0, 0.5]", "device = \"hp\"", "grid[0].device",
     "allowed: biolek2009, caravelli2017"),
    ("connectivity = [1.0, 0.5]", "device_params = { ron = 1.0 }", "grid[0].device_params.ron",
     "allowed: r_on, r_off"),
    ("connectivity = [1.0, 0.5]", "device_params = { r_on = -1.0 }", "grid[0].device_params",
     "r_on"),
    ("x0_spread = [0.0, 0.2]", "x0spread = 0.1", "grid[0].learning.x0spread",
     "allowed: v_read"),
    ("x0_spread = [0.0, 0.2]", "v_inhibit = 1.0", "grid[0].learning.v_inhibit", "negative"),
    ("P = [2]", "P = [3]", "grid[1].P", "3 one-hot patterns need >= 3 inputs"),
    ("P = [2]", "P = \"all\"", "grid[1].P", "a list of pattern counts"),
    ("P = [2]", "P = { from = 1, upto = 2 }", "grid[1].P.upto", "allowed here: from, step, to"),
    ("P = [2]", "P = [2, 2]", "grid[1].P", "distinct"),
    ("connectivity = [1.0, 0.5]", "connectivity = []", "grid[0].connectivity", "empty list"),
    ("label = \"abstract\"\nmodel = \"abstract\"", "label = \"full\"\nmodel = \"abstract\"",
     None, None),
])
def test_validation_errors_name_the_key_and_the_allowed_values(old, new, key, hint):
    assert old in BASE
    text = BASE.replace(old, new)
    if key is None:  # a harmless change: still valid
        parse_sweep(text)
        return
    with pytest.raises(SweepFileError) as err:
        parse_sweep(text, source="bad.toml")
    msg = str(err.value)
    assert msg.startswith(f"bad.toml: {key}" if key else "bad.toml:"), msg
    assert hint in msg, msg
    assert "\n" not in msg  # one line


def test_the_same_point_twice_is_an_error():
    text = BASE + BASE[BASE.index("[[grid]]\nlabel = \"abstract\""):]
    with pytest.raises(SweepFileError, match="appears twice"):
        parse_sweep(text)


def test_abstract_model_has_no_connectivity():
    with pytest.raises(SweepFileError, match="grid\\[1\\].connectivity: the abstract model"):
        parse_sweep(BASE.replace("P = [2]", "P = [2]\nconnectivity = 0.5"))


def test_missing_file(tmp_path):
    with pytest.raises(SweepFileError, match="no such sweep file"):
        load_sweep(tmp_path / "nope.toml")


def test_random_and_crossbar_grids():
    text = """
[sweep]
name = "g"
seed = 1
repetitions = 2
[[grid]]
topology = "random"
n_nodes = [8, 10]
edge_prob = 0.5
n_inputs = 2
n_outputs = 2
[[grid]]
topology = "crossbar"
rows = 3
cols = 2
r_line = 1
P = { from = 2 }
"""
    spec = parse_sweep(text)
    assert [p.params.get("n_nodes") for p in spec.points] == [8, 10, None]
    assert spec.points[2].params["r_line"] == 1.0 and spec.points[2].patterns == (2, 3)
    with pytest.raises(SweepFileError, match="grid\\[0\\].n_nodes: 3 nodes cannot hold"):
        parse_sweep(text.replace("[8, 10]", "3"))
    with pytest.raises(SweepFileError, match="grid\\[1\\].rows: missing"):
        parse_sweep(text.replace("rows = 3\n", ""))


def test_a_range_of_P_ends_at_the_largest_possible_load():
    spec = parse_sweep(BASE.replace('P = { from = 1, to = "inputs" }', 'P = { from = 1, to = 4 }'))
    assert {tuple(p.params["sizes"]): p.patterns for p in spec.points
            if p.params["model"] == "circuit"} == {(2, 2, 2): (1, 2), (3, 3, 3): (1, 2, 3)}
    with pytest.raises(SweepFileError, match="grid\\[0\\].P.from: 3 one-hot patterns need"):
        parse_sweep(BASE.replace('P = { from = 1, to = "inputs" }', "P = { from = 3 }"))
