"""Search files: validation errors name file, line, key and fix; the space they declare."""

import re

import pytest

from memsim.errors import ParameterError
from memsim.search import SearchFileError, design_point, load_search, parse_search
from memsim.search.space import parse_spec_dict
from memsim.sweep import parse_sweep

BASE = """\
[search]
name = "t"
seed = 7
budget = 10
inputs = 4
outputs = 4
repetitions = 8
P = { from = 1, to = 3 }

[search.bo]
points = 500

[space]
topology = ["layered", "skip", "bipartite"]
hidden = { from = 4, to = 16 }
depth = [1, 2]
connectivity = { from = 0.5, to = 1.0 }
skip = { from = 0.05, to = 1.0 }
degree = { from = 1, to = 4 }
device = "pershin2011"
protocol = ["default", "calibrated"]

[space.learning]
t_inhibit = { from = 1e-4, to = 5e-3, log = true }
v_inhibit = { from = -8.0, to = -2.0 }

[space.calibration]
drive = { from = 0.3, to = 3.0 }
"""


def line_of(text, fragment):
    (n,) = [k for k, line in enumerate(text.splitlines(), start=1) if fragment in line]
    return n


def error_for(tmp_path, text):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SearchFileError) as info:
        load_search(path)
    return path, info.value


def test_base_file_is_valid(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text(BASE)
    spec = load_search(path)
    assert spec.settings.inputs == 4 and spec.settings.loads == (1, 2, 3) and spec.budget == 10
    assert spec.methods == ("bo", "random") and spec.bo["points"] == 500


# (edit: old -> new text, the key the error names, a fragment of its fix[, a fragment of the
# line it must point at: default, the edited line]).
CASES = [
    pytest.param(("hidden = {", "hiden = {"), "space.hiden",
                 "unknown key; allowed here: calibration, connectivity", id="unknown field"),
    pytest.param(("t_inhibit = {", "t_inhibt = {"), "space.learning.t_inhibt",
                 "not a field of CircuitConfig; allowed: v_read", id="unknown learning field"),
    pytest.param(("budget = 10", "budgett = 10"), "search.budgett",
                 "unknown key; allowed here:", id="unknown search key"),
    pytest.param(("hidden = { from = 4, to = 16 }", "hidden = { from = 16, to = 4 }"),
                 "space.hidden", "empty or inverted range: from = 16 must be below to = 4",
                 id="inverted range"),
    pytest.param(("connectivity = { from = 0.5, to = 1.0 }",
                  "connectivity = { from = 0.5, to = 0.5 }"), "space.connectivity",
                 "empty or inverted range", id="empty range"),
    pytest.param(("t_inhibit = { from = 1e-4,", "t_inhibit = { from = 0.0,"),
                 "space.learning.t_inhibit", "a log range needs from > 0, got from = 0.0; use "
                 "a positive lower bound or log = false", id="log range from 0"),
    pytest.param(("v_inhibit = { from = -8.0, to = -2.0 }",
                  "v_inhibit = { from = -8.0, to = -2.0, log = true }"),
                 "space.learning.v_inhibit", "a log range needs from > 0", id="log range < 0"),
    pytest.param(('device = "pershin2011"', 'device = ["pershin2011", "pershin2012"]'),
                 "space.device", "unknown device preset 'pershin2012'; allowed: biolek2009",
                 id="unknown preset"),
    pytest.param(('topology = ["layered", "skip", "bipartite"]',
                  'topology = ["layered", "skip", "ring"]'), "space.topology",
                 "unknown topology kind 'ring'; allowed: layered, skip, lateral, bipartite, "
                 "random", id="unknown topology kind"),
    pytest.param(("connectivity = { from = 0.5,", "connectivity = { from = 0.0,"),
                 "space.connectivity.from", "0.0 is outside the allowed numbers in (0, 1]",
                 id="range outside the domain"),
    pytest.param(("v_inhibit = { from = -8.0, to = -2.0 }",
                  "v_inhibit = { from = -8.0, to = 1.0 }"), "space.learning.v_inhibit.to",
                 "inhibition needs a negative bias", id="learning value invalid"),
    pytest.param(("hidden = { from = 4, to = 16 }", "hidden = { from = 4.5, to = 16 }"),
                 "space.hidden.from", "must be an integer, got 4.5", id="integer range"),
    pytest.param(("depth = [1, 2]", "depth = [1, 1]"), "space.depth", "lists a value twice",
                 id="duplicate choice"),
    pytest.param(("depth = [1, 2]", "depth = []"), "space.depth",
                 "an empty list leaves nothing to choose", id="empty choice"),
    pytest.param(('topology = ["layered", "skip", "bipartite"]',
                  'topology = ["layered", "skip"]'), "space.degree",
                 "applies to topology bipartite only, which the space does not include",
                 "degree = {", id="parameter of no chosen kind"),
    pytest.param(('protocol = ["default", "calibrated"]', 'protocol = "default"'),
                 "space.calibration.drive", "applies to protocol \"calibrated\" only",
                 "drive = {", id="calibration without the calibrated protocol"),
    pytest.param(('protocol = ["default", "calibrated"]', 'protocol = "calibrated"'),
                 "space.learning.v_inhibit", "the calibrated protocol chooses this voltage",
                 "v_inhibit = {", id="voltage the calibration sets"),
    pytest.param(("P = { from = 1, to = 3 }", "P = [1, 2, 5]"), "search.P",
                 "P = 5 is more than 4 (one-hot patterns need as many inputs)", id="P too big"),
    pytest.param(("repetitions = 8", 'repetitions = 8\nobjectives = ["mean_capacity", '
                  '"power_falls"]'), "search.objectives", "unknown value 'power_falls'; "
                 "allowed: devices, energy_per_pattern", id="second objective"),
    pytest.param(("points = 500", "points = 500\nsurogate = \"ET\""), "search.bo.surogate",
                 "unknown key; allowed here: acquisition", id="unknown bo key"),
    pytest.param(("drive = { from = 0.3, to = 3.0 }", "drive = { from = 0.3, to = 3.0 }\n\n"
                  "[space.device_params]\nk_on = 3.0"), "space.device_params.k_on",
                 "not a numeric field of device 'pershin2011' (Threshold)", id="device field"),
    pytest.param(("[space.calibration]\ndrive", "[space.calibration]\ndrve"),
                 "space.calibration.drve", "not a setting of the calibrated protocol; allowed: "
                 "drive, normalize, read_margin", id="calibration field"),
]


@pytest.mark.parametrize(("edit", "key", "fix", "at"),
                         [pytest.param(*c.values, *([None] * (4 - len(c.values))), id=c.id)
                          for c in CASES])
def test_bad_search_file_error_names_file_line_key_and_fix(tmp_path, edit, key, fix, at):
    old, new = edit
    assert BASE.count(old) == 1
    text = BASE.replace(old, new)
    path, err = error_for(tmp_path, text)
    line = line_of(text, at or new.splitlines()[-1])
    assert str(err).startswith(f"{path}:{line}: {key}: "), str(err)
    assert fix in str(err), str(err)
    assert "\n" not in str(err)
    assert (err.path, err.line, err.key) == (str(path), line, key)


def test_missing_keys_point_at_their_table(tmp_path):
    path, err = error_for(tmp_path, BASE.replace("seed = 7\n", ""))
    assert str(err).startswith(f"{path}:1: search.seed: missing seed (name, seed, budget"), \
        str(err)
    path, err = error_for(tmp_path, BASE.replace("hidden = { from = 4, to = 16 }\n", ""))
    assert str(err).startswith(f"{path}:{line_of(BASE, '[space]')}: space: missing hidden "
                               "(topology layered and skip and bipartite needs it)"), str(err)


def test_not_toml_names_the_line(tmp_path):
    text = BASE.replace('name = "t"', 'name = "t')
    path, err = error_for(tmp_path, text)
    assert str(err).startswith(f"{path}:2: not valid TOML"), str(err)


def test_missing_file_and_nothing_to_search(tmp_path):
    with pytest.raises(SearchFileError, match="no such search file"):
        load_search(tmp_path / "none.toml")
    fixed = re.sub(r"\[space\].*", "[space]\nhidden = 8\n", BASE, flags=re.S)
    _, err = error_for(tmp_path, fixed)
    assert "nothing to search" in str(err)


def test_random_graphs_need_room_for_the_terminals(tmp_path):
    text = BASE.replace('topology = ["layered", "skip", "bipartite"]',
                        'topology = ["layered", "random"]\nnodes = { from = 6, to = 20 }\n'
                        'edge_prob = { from = 0.2, to = 0.8 }')
    text = text.replace("skip = { from = 0.05, to = 1.0 }\n", "")
    text = text.replace("degree = { from = 1, to = 4 }\n", "")
    _, err = error_for(tmp_path, text)
    assert "space.nodes: a random network needs at least inputs + outputs = 8 nodes" in str(err)


def test_conditions_follow_the_topology_kinds_and_the_protocol():
    spec = parse_search(BASE)
    parents = {p.name: p.parent for p in spec.searched}
    assert parents["skip"] == ("topology", ("skip",))
    assert parents["degree"] == ("topology", ("bipartite",))
    assert parents["connectivity"] == ("topology", ("layered", "skip"))
    assert parents["hidden"] is None  # every kind of this space has hidden layers
    assert parents["calibration.drive"] == ("protocol", ("calibrated",))
    assert parents["learning.v_inhibit"] == ("protocol", ("default",))
    assert parents["learning.t_inhibit"] is None
    assert len(spec.problem(conditions=True).space.conditions) == 5
    assert not spec.problem().space.conditions  # the default: the optimizer is not told
    told = parse_search(BASE.replace("points = 500", "points = 500\nconditions = true"))
    assert len(told.problem().space.conditions) == 5
    values = spec.values({"topology": "bipartite", "hidden": 6, "depth": "2",
                          "connectivity": 0.7, "skip": 0.3, "degree": 2,
                          "protocol": "calibrated", "learning.t_inhibit": 1e-3,
                          "learning.v_inhibit": -3.0, "calibration.drive": 1.0})
    assert values == {"topology": "bipartite", "device": "pershin2011",
                      "protocol": "calibrated", "hidden": 6, "depth": 2, "degree": 2,
                      "calibration.drive": 1.0, "learning.t_inhibit": 1e-3}


def test_digest_ignores_budget_and_methods_but_not_the_space():
    spec = parse_search(BASE)
    assert spec.with_budget(50).digest == spec.digest
    assert parse_search(BASE.replace("budget = 10", 'budget = 10\nmethods = ["random"]')
                        ).digest == spec.digest
    assert parse_search(BASE.replace("to = 16", "to = 17")).digest != spec.digest
    assert parse_search(BASE.replace("seed = 7", "seed = 8")).digest != spec.digest
    assert parse_spec_dict(spec.to_dict()) == spec.with_budget(10).__class__(
        **{**spec.__dict__, "source": "<store>"})
    with pytest.raises(ParameterError, match="budget"):
        spec.with_budget(0)


def test_a_plain_layered_design_is_the_sweep_grid_point_of_the_same_parameters():
    """So sweeps and searches recognize each other's stored trials."""
    spec = parse_search(BASE)
    point = design_point(spec, spec.values({"topology": "layered", "hidden": 8, "depth": "1",
                                            "connectivity": 0.75, "protocol": "default",
                                            "learning.t_inhibit": 1e-3,
                                            "learning.v_inhibit": -5.0}))
    sweep = parse_sweep("""
[sweep]
name = "s"
seed = 1
repetitions = 2
[[grid]]
sizes = [4, 8, 4]
connectivity = 0.75
learning = { t_inhibit = 1e-3, v_inhibit = -5.0 }
""")
    assert point == sweep.points[0].params


def test_designs_of_motifs_and_protocols():
    spec = parse_search(BASE)
    skip = design_point(spec, spec.values({"topology": "skip", "hidden": 5, "depth": "2",
                                           "connectivity": 1.0, "skip": 0.4,
                                           "protocol": "calibrated", "learning.t_inhibit": 2e-4,
                                           "calibration.drive": 0.9}))
    assert skip["sizes"] == [4, 5, 5, 4] and skip["motif"] == {"kind": "skip", "skip": 0.4}
    assert skip["protocol"] == {"kind": "calibrated", "drive": 0.9, "normalize": None,
                                "read_margin": 0.5}
    assert skip["learning"]["t_inhibit"] == 2e-4
    bip = design_point(spec, spec.values({"topology": "bipartite", "hidden": 8, "depth": "1",
                                          "degree": 3, "protocol": "default",
                                          "learning.t_inhibit": 1e-3,
                                          "learning.v_inhibit": -4.0}))
    assert bip["motif"] == {"kind": "bipartite", "degree": 3} and bip["connectivity"] == 1.0
    assert "protocol" not in bip
