"""Objective kinds (memsim.search.kinds) and the mushroom kind (memsim.rules.meta): a search
file names its kind, every error names file, line, key and fix, a mushroom evaluation reads
only the training split and is a function of its seed."""

import dataclasses

import numpy as np
import pytest

from memsim.errors import ParameterError
from memsim.rules import meta
from memsim.rules.datasets import load_dataset
from memsim.rules.meta import MUSHROOM, best_by_rule, evaluate, verdict
from memsim.rules.mushroom import MushroomConfig
from memsim.search import (
    CAPACITY,
    Domain,
    ObjectiveKind,
    SearchFileError,
    kind_names,
    objective_kind,
    parse_search,
    register_kind,
)
from memsim.search.space import parse_spec_dict

MUSHROOM_FILE = """\
[search]
name = "m"
kind = "mushroom"
seed = 3
budget = 4
dataset = "digits"
hardware = "rram64"
epochs = 1
n_train = 200

[search.tile]
r_line = 0.0

[space]
rule = ["hebb", "delta", "winner"]
lr = { from = 0.01, to = 1.0, log = true }
decay = { from = 1e-3, to = 1.0, log = true }
n_kc = { from = 100, to = 300 }
k_fraction = { from = 0.02, to = 0.2, log = true }
levels = 16
"""


def test_builtin_and_installed_kinds_are_found():
    assert objective_kind("capacity") is CAPACITY
    # the mushroom kind comes from the entry point memsim's pyproject.toml declares
    assert objective_kind("mushroom") is MUSHROOM
    assert {"capacity", "mushroom"} <= set(kind_names())


def test_unknown_kind_is_a_file_error_naming_file_line_and_the_known_kinds():
    text = MUSHROOM_FILE.replace('kind = "mushroom"', 'kind = "mushrom"')
    with pytest.raises(SearchFileError) as err:
        parse_search(text, source="f.toml")
    msg = str(err.value)
    assert msg.startswith("f.toml:3: search.kind: unknown value 'mushrom'"), msg
    assert "capacity" in msg and "mushroom" in msg
    assert err.value.line == 3


def test_unknown_kind_by_name_raises():
    with pytest.raises(ParameterError, match="unknown objective kind 'nope'; known: capacity"):
        objective_kind("nope")


def test_register_kind_refuses_a_second_kind_of_the_same_name():
    class Other(ObjectiveKind):
        name = "capacity"

    with pytest.raises(ParameterError, match="'capacity' is already registered"):
        register_kind(Other())
    with pytest.raises(ParameterError, match="needs a name"):
        register_kind(ObjectiveKind())
    assert objective_kind("capacity") is CAPACITY  # untouched


def test_a_registered_kind_is_parsed_by_its_own_parser():
    @dataclasses.dataclass(frozen=True)
    class Settings:
        width: int

    class Toy(ObjectiveKind):
        name = "toy_kind_for_test"
        objectives = {"score": ("min", "a toy")}
        primary = {"score": ()}
        required = ("width",)
        search_keys = ("width",)

        def parse(self, parser, head, space, objectives):
            return (Settings(parser.integer("search.width", head["width"], 1)),
                    (parser.numeric("x", space["x"], Domain("float", 0, 1)),))

        def settings_from_dict(self, data):
            return Settings(data["width"])

    toy = register_kind(Toy())
    text = ('[search]\nname = "t"\nkind = "toy_kind_for_test"\nseed = 1\nbudget = 2\n'
            'width = 3\n[space]\nx = { from = 0.1, to = 0.9 }\n')
    spec = parse_search(text)
    assert spec.objective_kind is toy and spec.settings == Settings(3)
    assert spec.direction("score") == -1.0
    assert parse_spec_dict(spec.to_dict()).digest == spec.digest
    with pytest.raises(SearchFileError, match=r"<string>:6: search.width: must be an integer"):
        parse_search(text.replace("width = 3", "width = 0"))
    with pytest.raises(SearchFileError, match=r"<string>:8: space.x.to: 1.5 is outside"):
        parse_search(text.replace("to = 0.9", "to = 1.5"))


def test_mushroom_file_parses_and_round_trips():
    spec = parse_search(MUSHROOM_FILE)
    s = spec.settings
    assert (spec.kind, s.dataset, s.hardware, s.tile, s.epochs, s.n_train) == (
        "mushroom", "digits", "rram64", {"r_line": 0.0}, 1, 200)
    assert [p.name for p in spec.searched] == ["rule", "lr", "decay", "n_kc", "k_fraction"]
    # decay only means something for the hebb rule: a ConfigSpace condition
    assert spec.param("decay").parent == ("rule", ("hebb",))
    assert spec.objectives == ("validation_accuracy",)
    back = parse_spec_dict(spec.to_dict())
    assert back.settings == s and back.digest == spec.digest
    point = spec.point(spec.values({"rule": "delta", "lr": 0.1, "n_kc": 200,
                                    "k_fraction": 0.05}))
    assert point["config"]["k"] == 10 and point["levels"] == 16
    assert point["config"]["decay"] == MushroomConfig.decay  # inactive: the default
    assert list(MUSHROOM.references(spec)) == [f"default {r}" for r in
                                               ("hebb", "oja", "delta", "perceptron", "winner")]


@pytest.mark.parametrize("old, new, line, key, fix", [
    ('dataset = "digits"', 'dataset = "cifar"', 6, "search.dataset", "allowed: digits"),
    ('hardware = "rram64"', 'hardware = "float"', 11, "search.tile", "hardware is \"float\""),
    ("r_line = 0.0", "levels = 8", 12, "search.tile.levels", "a [space] parameter"),
    ("r_line = 0.0", "r_lines = 0.0", 12, "search.tile.r_lines", "not a field of TileConfig"),
    ("epochs = 1", "epochs = 0", 8, "search.epochs", "integer >= 1"),
    ("n_train = 200", "n_train = 200\nvalidation = 1.5", 10, "search.validation", "(0, 1)"),
    ('"delta", "winner"]', '"delta", "bcm"]', 15, "space.rule", "unknown rule 'bcm'"),
    ('rule = ["hebb", "delta", "winner"]', 'rule = ["delta", "winner"]', 17, "space.decay",
     "only the hebb rule has a decay"),
    ("k_fraction = { from = 0.02, to = 0.2, log = true }", "k = { from = 10, to = 150 }", 19,
     "space.k", "more than the fewest Kenyon cells"),
    ("levels = 16", "levels = 1", 20, "space.levels", "outside"),
    ("levels = 16", "lr_decay = 1", 20, "space.lr_decay", "unknown key"),
])
def test_bad_mushroom_files_name_file_line_key_and_fix(old, new, line, key, fix):
    assert old in MUSHROOM_FILE
    with pytest.raises(SearchFileError) as err:
        parse_search(MUSHROOM_FILE.replace(old, new), source="m.toml")
    msg = str(err.value)
    assert msg.startswith(f"m.toml:{line}: {key}: "), msg
    assert fix in msg, msg


def test_levels_on_float_weights_is_refused():
    text = MUSHROOM_FILE.replace('hardware = "rram64"', 'hardware = "float"').replace(
        "[search.tile]\nr_line = 0.0\n", "")
    with pytest.raises(SearchFileError, match=r"space.levels: conductance levels need tile"):
        parse_search(text)


def _point(**changes):
    point = {"dataset": "digits", "split_seed": 0, "hardware": "float", "tile": {},
             "levels": None, "config": dataclasses.asdict(MushroomConfig(n_kc=200, k=10)),
             "epochs": 1, "n_train": 300, "validation": 0.2}
    return {**point, **changes}


def test_evaluation_is_a_function_of_its_seed():
    payload = {"key": "k", "point": _point(), "objectives": ["validation_accuracy", "pulses"]}
    a = evaluate({**payload, "master": 5})
    b = evaluate({**payload, "master": 5})
    c = evaluate({**payload, "master": 6})
    assert a["objectives"] == b["objectives"] and a["metrics"]["history"][0]["train_accuracy"] \
        == b["metrics"]["history"][0]["train_accuracy"]
    assert a["objectives"][1] == 0.0  # float weights take no programming pulses
    assert a["metrics"]["n_validation"] == 60  # a fifth of the 300 training samples
    assert a["metrics"]["history"] != c["metrics"]["history"]  # another split and projection
    assert 0.5 < a["objectives"][0] <= 1.0  # chance is 0.1


def test_evaluation_on_tiles_counts_pulses():
    out = evaluate({"key": "k", "master": 1, "objectives": ["validation_accuracy", "pulses"],
                    "point": _point(hardware="rram64", tile={"r_line": 0.0}, levels=4)})
    assert out["objectives"][1] > 0 and out["metrics"]["write_energy"] > 0


def test_test_accuracy_reads_the_test_split_and_the_search_does_not(monkeypatch):
    ds = load_dataset("digits", seed=0)
    poisoned = dataclasses.replace(ds, x_test=np.full_like(ds.x_test, np.nan),
                                   y_test=np.full_like(ds.y_test, -1))
    import memsim.rules.mushroom as mushroom

    monkeypatch.setattr(mushroom, "load_dataset", lambda *a, **k: poisoned)
    out = evaluate({"key": "k", "master": 2, "objectives": ["validation_accuracy"],
                    "point": _point()})
    assert 0.5 < out["objectives"][0] <= 1.0  # NaN test inputs never reached the search
    res = meta.test_accuracy({"p": _point()}, [0, 1])["p"]
    assert res["n_test"] == 360 and len(res["accuracies"]) == 2
    assert 0.5 < res["mean"] <= 1.0 and res["sem"] >= 0.0
    with pytest.raises(ParameterError, match="seeds"):
        meta.test_accuracy({"p": _point()}, [])


def test_best_by_rule_and_verdict():
    rows = [{"method": "bo", "idx": i, "objectives": [acc], "point": {"config": {"rule": r}}}
            for i, (r, acc) in enumerate([("delta", 0.9), ("hebb", 0.95), ("delta", 0.97),
                                          ("hebb", 0.99)])]
    spec = dataclasses.replace(parse_search(MUSHROOM_FILE), budget=3)
    best = best_by_rule(spec, rows)  # idx 3 is beyond the budget
    assert {r: b["idx"] for r, b in best.items()} == {"hebb": 1, "delta": 2}
    v = verdict([{"rule": "delta", "test": 0.95, "sem": 0.01},
                 {"rule": "hebb", "test": 0.90, "sem": 0.01}])
    # lead 0.05 against 2 * sqrt(2) * 0.01 = 0.028: a clear win
    assert v["best"] == "delta" and v["clear"] and v["tied"] == ["delta"]
    assert v["lead"] == pytest.approx(0.05) and v["lead_se"] == pytest.approx(0.01 * 2 ** 0.5)


def test_the_study_searches_hold_what_their_names_say():
    for name in meta.META_SEARCHES:
        spec = meta.meta_spec(name, meta.MetaSettings())
        _, dataset, precision = name.split("_")
        levels = spec.param("levels")
        assert spec.kind == "mushroom" and spec.settings.dataset == dataset
        if precision == "float":
            assert spec.settings.hardware == "float" and levels is None
        else:  # rramN: an RRAM tile with N levels and ideal lines
            assert (levels.value, spec.settings.tile) == (int(precision[4:]), {"r_line": 0.0})
    small = meta.meta_spec("mushroom_digits_rram4", meta.SETTINGS["small"])
    assert (small.budget, small.bo["initial"], small.settings.epochs,
            small.settings.n_train) == (4, 2, 1, 300)
