"""The mushroom body's meta-search (after Madireddy, Yanguas-Gil, Balaprakash, arXiv
1906.01668) through :mod:`memsim.search`: the objective kind ``mushroom``.

The seed paper casts the choice of a local learning rule and its hyper-parameters as an
optimization problem solved by DeepHyper. Here that problem is a search file with
``kind = "mushroom"``, run by the same engine, store and report as every other search
(``memsim search searches/mushroom_digits_float.toml``)::

    [search]
    name = "mushroom_digits_rram4"
    kind = "mushroom"
    seed = 2026
    budget = 40
    parallel = 2
    dataset = "digits"        # or "mnist5k" (memsim.rules.datasets)
    hardware = "rram64"       # "float" or a tile preset (memsim.tiles.TILE_PRESETS)
    epochs = 3                # training epochs of every evaluation
    split_seed = 0            # the dataset's train/test split (the test part is never read)
    validation = 0.2          # share of the training split the rule is scored on
    n_train = 400             # optional: only the first n_train training samples (quick runs)
    objectives = ["validation_accuracy"]   # optionally a second: "devices" or "pulses"

    [search.tile]             # fields of memsim.tiles.TileConfig (tile hardware only)
    r_line = 0.0

    [space]                   # fields of memsim.rules.mushroom.MushroomConfig, and levels
    rule = ["hebb", "oja", "delta", "perceptron", "winner"]
    lr = { from = 1e-3, to = 1.0, log = true }
    decay = { from = 1e-3, to = 1.0, log = true }
    n_kc = { from = 200, to = 3000 }
    fan_in = { from = 0.02, to = 0.5, log = true }
    k_fraction = { from = 0.005, to = 0.2, log = true }   # or k = { from = ..., to = ... }
    levels = 4                # the tile's conductance levels (tile hardware only)

An evaluation (:func:`evaluate`) trains the design on ``1 - validation`` of the training split
(stratified, seeded by the evaluation's seed) and returns its accuracy on the rest
(:func:`memsim.rules.mushroom.validation_run`); the held-out test split is dropped before
training starts. The references of a search are the five rules at the defaults of
:class:`~memsim.rules.mushroom.MushroomConfig`. The honest number for a design the search
chose is its accuracy on the test split, trained on the whole training split with fresh seeds:
:func:`test_accuracy`; :func:`rule_table` does that for the best design of every rule.

>>> from memsim.search import parse_search
>>> spec = parse_search('''
... [search]
... name = "m"
... kind = "mushroom"
... seed = 1
... budget = 4
... dataset = "digits"
... [space]
... rule = ["delta", "winner"]
... lr = { from = 0.01, to = 1.0, log = true }
... ''')
>>> spec.settings.dataset, [p.name for p in spec.searched]
('digits', ['rule', 'lr'])
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from memsim.errors import ParameterError
from memsim.rules.datasets import DATASETS, load_dataset
from memsim.rules.mushroom import RULES, MushroomBody, MushroomConfig, config_from, validation_run
from memsim.search.kinds import ObjectiveKind
from memsim.search.space import Domain, Param, SearchSpec, SpecParser, span, values_of
from memsim.sweep.spec import canonical_json

__all__ = ["MUSHROOM", "OBJECTIVES", "PARAMETERS", "MushroomKind", "MushroomSearch",
           "best_by_rule", "evaluate", "hardware_of", "rule_table", "test_accuracy"]

OBJECTIVES = {
    "validation_accuracy": ("max", "accuracy on the validation part of the training split"),
    "devices": ("min", "memristors of the KC -> output tile (two per weight)"),
    "pulses": ("min", "programming pulses applied during training (0 for float weights)"),
}
"""Objective name -> (direction, meaning)."""

PARAMETERS: dict[str, Domain] = {
    "rule": Domain("choice"),
    "lr": Domain("float", 0, low_open=True),
    "decay": Domain("float", 0),
    "n_kc": Domain("int", 1),
    "fan_in": Domain("float", 0, 1, low_open=True),
    "k": Domain("int", 1),
    "k_fraction": Domain("float", 0, 1, low_open=True),
    "w_max": Domain("float", 0, low_open=True),
    "levels": Domain("int", 2),
}
"""The ``[space]`` keys: the fields of MushroomConfig, ``k_fraction`` (k as a share of the
KCs, so that k never exceeds n_kc) and the tile's ``levels``."""

_KEYS = ("dataset", "epochs", "hardware", "n_train", "split_seed", "tile", "validation")
_TILE_FIXED = ("device", "levels", "w_max")  # the preset's, the space's and the rule's


@dataclass(frozen=True)
class MushroomSearch:
    """The mushroom kind's ``[search]`` settings (see the module docstring)."""

    dataset: str
    hardware: str = "float"
    tile: dict[str, Any] = field(default_factory=dict)
    epochs: int = 3
    n_train: int | None = None
    split_seed: int = 0
    validation: float = 0.2


def hardware_of(point: Mapping[str, Any]) -> Any:
    """The weight store of a design point: ``"float"`` or its TileConfig (preset, tile
    changes and levels).

    >>> hardware_of({"hardware": "rram64", "tile": {"r_line": 0.0}, "levels": 4}).levels
    4
    """
    if point["hardware"] == "float":
        return "float"
    from memsim.tiles import tile_preset

    levels = {} if point.get("levels") is None else {"levels": int(point["levels"])}
    return tile_preset(point["hardware"]).replace(**point["tile"], **levels)


class MushroomKind(ObjectiveKind):
    """The mushroom body's rule and hyper-parameters, scored on a validation split."""

    name = "mushroom"
    help = "the mushroom body's local learning rule and hyper-parameters"
    objectives = OBJECTIVES
    primary = {"validation_accuracy": ("devices", "pulses")}
    required = ("dataset",)
    search_keys = _KEYS

    def parse(self, parser: SpecParser, head: Mapping[str, Any], space: Mapping[str, Any],
              objectives: tuple[str, ...]) -> tuple[MushroomSearch, tuple[Param, ...]]:
        return _MushroomParser(parser.source, parser.lines).parse(head, space)

    def settings_from_dict(self, data: Mapping[str, Any]) -> MushroomSearch:
        return MushroomSearch(**{f.name: data[f.name]
                                 for f in dataclasses.fields(MushroomSearch)})

    def point(self, spec: SearchSpec, values: Mapping[str, Any]) -> dict[str, Any]:
        s: MushroomSearch = spec.settings
        v = dict(values)
        levels = v.pop("levels", None)
        cfg, _ = config_from(v)
        return {"label": f"mushroom {cfg.rule}", "dataset": s.dataset,
                "split_seed": s.split_seed, "hardware": s.hardware, "tile": dict(s.tile),
                "levels": None if levels is None else int(levels),
                "config": dataclasses.asdict(cfg), "epochs": s.epochs, "n_train": s.n_train,
                "validation": s.validation}

    def payload(self, spec: SearchSpec, point: Mapping[str, Any], master: int
                ) -> dict[str, Any]:
        settings = {"point": dict(point), "master": int(master),
                    "objectives": list(spec.objectives)}
        key = hashlib.sha256(canonical_json(settings).encode()).hexdigest()[:32]
        return {"key": key, **settings}

    def references(self, spec: SearchSpec) -> dict[str, dict[str, Any]]:
        """Every rule at the defaults of MushroomConfig, on the search's hardware (and its
        levels, where the space fixes them)."""
        levels = spec.param("levels")
        fixed = {"levels": levels.value} if levels is not None and not levels.searched else {}
        out = {}
        for rule in RULES:
            p = self.point(spec, {"rule": rule, **fixed})
            p["label"] = f"default {rule}"
            out[f"default {rule}"] = p
        return out

    def describe(self, spec: SearchSpec) -> str:
        s: MushroomSearch = spec.settings
        hw = s.hardware + (f" {s.tile}" if s.tile else "")
        levels = spec.param("levels")
        if levels is not None:
            hw += f", levels {'searched' if levels.searched else levels.value}"
        return (f"mushroom body on {s.dataset} ({hw}), {s.epochs} epoch{'s' * (s.epochs > 1)}, "
                f"validation "
                f"{s.validation:g} of the training split, objective "
                f"{' + '.join(spec.objectives)}")

    @staticmethod
    def evaluate(payload: Mapping[str, Any]) -> dict[str, Any]:
        return evaluate(payload)


class _MushroomParser(SpecParser):
    def parse(self, head: Mapping[str, Any], space: Mapping[str, Any]
              ) -> tuple[MushroomSearch, tuple[Param, ...]]:
        dataset = self.choice("search.dataset", head["dataset"], tuple(DATASETS))
        hardware = head.get("hardware", "float")
        from memsim.tiles import TILE_PRESETS, tile_preset

        self.choice("search.hardware", hardware, ("float", *TILE_PRESETS))
        tile = head.get("tile", {})
        if not isinstance(tile, dict):
            raise self.fail("search.tile", "must be a table of TileConfig fields, e.g. "
                            "[search.tile] r_line = 0.0")
        if tile and hardware == "float":
            raise self.fail("search.tile", "changes a tile, but hardware is \"float\"; give "
                            "hardware a tile preset or remove [search.tile]")
        for name, value in tile.items():
            key = f"search.tile.{name}"
            fields = [f.name for f in dataclasses.fields(tile_preset(hardware))]
            if name in _TILE_FIXED:
                where = {"device": "the preset's", "levels": "a [space] parameter",
                         "w_max": "the rule's weight bound (space w_max)"}[name]
                raise self.fail(key, f"is {where}, not a tile change here")
            if name not in fields:
                raise self.fail(key, f"not a field of TileConfig; allowed: "
                                f"{', '.join(f for f in fields if f not in _TILE_FIXED)}")
            try:
                tile_preset(hardware).replace(**{name: value})
            except (ParameterError, TypeError, ValueError) as exc:
                raise self.fail(key, str(exc).split(": ", 1)[-1]) from None
        epochs = self.integer("search.epochs", head.get("epochs", 3), 1)
        n_train = head.get("n_train")
        if n_train is not None:
            n_train = self.integer("search.n_train", n_train, 10)
        split_seed = self.integer("search.split_seed", head.get("split_seed", 0), 0)
        validation = self.number("search.validation", head.get("validation", 0.2))
        if not 0 < validation < 1:
            raise self.fail("search.validation", f"a share of the training split in (0, 1), "
                            f"got {validation!r}")
        settings = MushroomSearch(dataset, hardware, dict(tile), epochs, n_train, split_seed,
                                  validation)
        return settings, self.space(dict(space), hardware)

    def space(self, table: dict[str, Any], hardware: str) -> tuple[Param, ...]:
        self.known("space.", table, tuple(PARAMETERS))
        params: dict[str, Param] = {}
        for name, domain in PARAMETERS.items():
            if name not in table:
                continue
            if domain.type == "choice":
                params[name] = self.categorical(name, table[name], RULES, "rule")
            else:
                params[name] = self.numeric(name, table[name], domain)
        if "levels" in params and hardware == "float":
            raise self.fail("space.levels", "conductance levels need tile hardware; set "
                            "[search] hardware to a tile preset, or remove levels")
        if "k" in params and "k_fraction" in params:
            raise self.fail("space.k", "give k or k_fraction, not both")
        n_kc = min(span(params["n_kc"])) if "n_kc" in params else MushroomConfig.n_kc
        if "k" in params and max(span(params["k"])) > n_kc:
            raise self.fail("space.k", f"k can reach {max(span(params['k']))!r}, more than "
                            f"the fewest Kenyon cells the space allows ({n_kc}); use "
                            "k_fraction or lower k")
        if "k" not in params and "k_fraction" not in params and n_kc < MushroomConfig.k:
            raise self.fail("space.n_kc", f"the default k = {MushroomConfig.k} needs at least "
                            f"as many Kenyon cells; give k or k_fraction")
        rules = values_of(params["rule"]) if "rule" in params else (MushroomConfig.rule,)
        if "decay" in params and "hebb" not in rules:
            raise self.fail("space.decay", "only the hebb rule has a decay, which the space "
                            "does not include; remove decay or add \"hebb\" to rule")
        if "decay" in params and "rule" in params:
            params["decay"] = self.condition(params["decay"], "rule", params["rule"], ["hebb"])
        return tuple(params.values())


MUSHROOM = MushroomKind()
"""The mushroom kind (``kind = "mushroom"``; the ``memsim.search_kinds`` entry point)."""


def _result(point: Mapping[str, Any], seed: int, *, test: bool) -> Any:
    """Train the design of ``point``: scored on the validation part of the training split,
    or (``test``) trained on the whole training split and scored on the test split."""
    hardware = hardware_of(point)
    if not test:
        return validation_run(dict(point["config"]), dataset=point["dataset"],
                              hardware=hardware, epochs=int(point["epochs"]), seed=seed,
                              n_train=point["n_train"], split_seed=int(point["split_seed"]),
                              validation=float(point["validation"]))
    ds = load_dataset(point["dataset"], seed=int(point["split_seed"])).subset(point["n_train"])
    mb = MushroomBody(ds.n_features, ds.n_classes, MushroomConfig(**point["config"]),
                      hardware=hardware, seed=seed)
    return mb.fit(ds, epochs=int(point["epochs"]))


def _test_run(point: Mapping[str, Any], seed: int) -> dict[str, Any]:
    res = _result(point, seed, test=True)
    return {"seed": seed, "test_accuracy": float(res.test_accuracy),
            "pulses": int(res.stats.pulses), "n_test": res.n_test}


def test_accuracy(points: Mapping[str, Mapping[str, Any]], seeds: Sequence[int], *,
                  client: Any = None) -> dict[str, dict[str, Any]]:
    """Test accuracy of designs the search chose: each trained on the whole training split
    of its dataset (the split the search saw a part of) with every seed of ``seeds``
    (projection, store, sample order), then scored on the held-out test split.

    Parameters
    ----------
    points : mapping
        Label -> design point (a stored evaluation's ``point``).
    seeds : sequence of int
    client : distributed.Client, optional
        Run the trainings on this cluster, in parallel (default: in this process).

    Returns
    -------
    dict
        Label -> ``accuracies`` (per seed), ``mean``, ``sem`` (standard error of the mean over
        the seeds), ``pulses`` (mean), ``n_test``.

    Raises
    ------
    ParameterError
        If no seed is given, or a point cannot be built.

    Examples
    --------
    >>> point = {"dataset": "digits", "split_seed": 0, "hardware": "float", "tile": {},
    ...          "levels": None, "config": dataclasses.asdict(MushroomConfig(n_kc=200, k=10)),
    ...          "epochs": 1, "n_train": 300, "validation": 0.2}
    >>> out = test_accuracy({"small": point}, [0, 1])["small"]
    >>> len(out["accuracies"]), out["n_test"], 0.5 < out["mean"] <= 1
    (2, 360, True)
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ParameterError("seeds", "need at least one seed")
    jobs = [(label, s) for label in points for s in seeds]
    if client is None:
        runs = [_test_run(points[label], s) for label, s in jobs]
    else:
        futures = [client.submit(_test_run, dict(points[label]), s, pure=False)
                   for label, s in jobs]
        runs = client.gather(futures)
    out: dict[str, dict[str, Any]] = {}
    for label in points:
        mine = [r for (lab, _), r in zip(jobs, runs, strict=True) if lab == label]
        acc = np.array([r["test_accuracy"] for r in mine])
        out[label] = {"accuracies": acc.tolist(), "mean": float(acc.mean()),
                      "sem": float(acc.std(ddof=1) / np.sqrt(acc.size)) if acc.size > 1
                      else float("nan"),
                      "pulses": float(np.mean([r["pulses"] for r in mine])),
                      "n_test": mine[0]["n_test"]}
    return out


def best_by_rule(spec: SearchSpec, rows: Sequence[Mapping[str, Any]]
                 ) -> dict[str, Mapping[str, Any]]:
    """The best stored evaluation of every rule (first objective, over all methods and the
    references, within the budget): rule -> row.

    >>> best_by_rule(None, [
    ...     {"method": "bo", "idx": 0, "objectives": [0.8], "point": {"config": {"rule": "oja"}}},
    ...     {"method": "bo", "idx": 1, "objectives": [0.9], "point": {"config": {"rule": "oja"}}},
    ...     {"method": "bo", "idx": 2, "objectives": None, "point": {"config": {"rule": "hebb"}}},
    ... ])["oja"]["idx"]
    1
    """
    budget = math.inf if spec is None else spec.budget
    out: dict[str, Mapping[str, Any]] = {}
    for r in rows:
        if r["objectives"] is None or (r["method"] != "reference" and r["idx"] >= budget):
            continue
        rule = r["point"]["config"]["rule"]
        if rule not in out or float(r["objectives"][0]) > float(out[rule]["objectives"][0]):
            out[rule] = r
    return {rule: out[rule] for rule in RULES if rule in out}


def rule_table(spec: SearchSpec, store: Any, seeds: Sequence[int], *, client: Any = None
               ) -> list[dict[str, Any]]:
    """For the search ``spec`` stored in ``store``: the best design of each rule, its
    validation accuracy in the search, and its test accuracy over ``seeds``
    (:func:`test_accuracy`), best test accuracy first.

    Raises
    ------
    StoreError, MemsimError
        As :func:`memsim.search.report.load_evaluations`.
    """
    from memsim.search.report import load_evaluations

    _, by_method = load_evaluations(store, spec.name)
    rows = [r for method_rows in by_method.values() for r in method_rows]
    best = best_by_rule(spec, rows)
    tested = test_accuracy({rule: r["point"] for rule, r in best.items()}, seeds,
                           client=client)
    table = []
    for rule, r in best.items():
        t = tested[rule]
        c = r["point"]["config"]
        table.append({"search": spec.name, "rule": rule, "found by": r["method"],
                      "validation": float(r["objectives"][0]), "test": t["mean"],
                      "sem": t["sem"], "per seed": t["accuracies"], "pulses": t["pulses"],
                      "n_kc": c["n_kc"], "k": c["k"], "fan_in": c["fan_in"], "lr": c["lr"],
                      "decay": c["decay"]})
    return sorted(table, key=lambda row: -row["test"])


def evaluate(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Evaluate one mushroom design on the validation split; its objectives and metrics.

    Parameters
    ----------
    payload : mapping
        ``key``, ``point`` (:meth:`MushroomKind.point`), ``master`` (the evaluation's seed:
        validation split, projection, store, sample order), ``objectives``.

    Returns
    -------
    dict
        ``key``; ``objectives`` in the order asked; ``metrics``: ``validation_accuracy`` and
        its binomial standard error ``validation_accuracy_err``, ``train_accuracy`` (online,
        last epoch), ``devices``, ``pulses``, ``write_energy`` (J), ``n_validation``,
        ``history``; ``wall_time``, ``cpu_time``, ``worker``, ``memsim_version``.

    Raises
    ------
    ParameterError
        If the design cannot be built (stored as a failed evaluation).

    Examples
    --------
    >>> point = {"dataset": "digits", "split_seed": 0, "hardware": "float", "tile": {},
    ...          "levels": None, "config": dataclasses.asdict(MushroomConfig(n_kc=200, k=10)),
    ...          "epochs": 1, "n_train": 300, "validation": 0.2}
    >>> out = evaluate({"key": "k", "point": point, "master": 5,
    ...                 "objectives": ["validation_accuracy", "devices"]})
    >>> out["metrics"]["n_validation"], out["objectives"][1]
    (60, 4000.0)
    """
    import memsim
    from memsim.sweep.work import worker_name

    start, cpu = time.perf_counter(), time.process_time()
    point = payload["point"]
    res = _result(point, int(payload["master"]), test=False)
    acc, n_val = float(res.test_accuracy), res.n_test
    metrics = {"validation_accuracy": acc,
               "validation_accuracy_err": math.sqrt(acc * (1 - acc) / n_val),
               "train_accuracy": float(res.history[-1]["train_accuracy"]),
               "devices": float(2 * res.config.n_kc * res.n_out),
               "pulses": float(res.stats.pulses), "write_energy": float(res.stats.write_energy),
               "n_validation": n_val, "history": res.history}
    return {"key": payload["key"],
            "objectives": [metrics[name] for name in payload["objectives"]],
            "metrics": metrics, "wall_time": time.perf_counter() - start,
            "cpu_time": time.process_time() - cpu, "worker": worker_name(),
            "memsim_version": memsim.__version__}


# ---------------------------------------------------------------------- the study
META_SEARCHES = tuple(f"mushroom_{ds}_{hw}" for ds in ("digits", "mnist5k")
                      for hw in ("float", "rram64", "rram16", "rram4"))
"""The study's searches (``searches/NAME.toml``): each dataset at float weights and on tiles
with 64, 16 and 4 conductance levels."""


@dataclass(frozen=True)
class MetaSettings:
    """Sizes of the meta-search study (None: as in the search files).

    Attributes
    ----------
    searches : names in ``searches/``
    budget, initial, epochs, n_train : overrides of the files' budget, BO initial designs,
        training epochs and training samples
    seeds : test-split seeds per re-evaluated design
    """

    searches: tuple[str, ...] = META_SEARCHES
    budget: int | None = None
    initial: int | None = None
    epochs: int | None = None
    n_train: int | None = None
    seeds: int = 5


SETTINGS = {
    "small": MetaSettings(searches=("mushroom_digits_float", "mushroom_digits_rram4",
                                    "mushroom_mnist5k_float", "mushroom_mnist5k_rram4"),
                          budget=4, initial=2, epochs=1, n_train=300, seeds=2),
    "full": MetaSettings(),
}
"""``small``: ``benchmarks/bench_meta.py --small`` (four searches, budget 4, 300 training
samples, one epoch); ``full``: the shipped search files and five test seeds
(``benchmarks/bench_meta.py``)."""


def meta_spec(name: str, settings: MetaSettings) -> SearchSpec:
    """The shipped search ``searches/NAME.toml`` (:func:`memsim.resources.data_path`) with the
    overrides of ``settings``."""
    from memsim.resources import data_path
    from memsim.search.space import load_search

    spec = load_search(data_path("searches", name))
    if settings.budget is not None:
        spec = spec.with_budget(settings.budget)
    if settings.initial is not None:
        spec = dataclasses.replace(spec, bo={**spec.bo, "initial": settings.initial})
    changes = {k: getattr(settings, k) for k in ("epochs", "n_train")
               if getattr(settings, k) is not None}
    return spec.with_settings(**changes) if changes else spec


def run_meta(settings: MetaSettings, store_dir: Any, *, client: Any = None,
             workers: int | None = None, progress: bool = False
             ) -> dict[str, tuple[SearchSpec, Any, Any]]:
    """Run (or resume) the study's searches, one store each in ``store_dir``: name ->
    (spec, store path, :class:`memsim.search.SearchSummary`). With ``client`` the searches
    use that cluster; otherwise each starts a local cluster of ``workers``."""
    from pathlib import Path

    from memsim.search.engine import run_search

    out = {}
    for name in settings.searches:
        spec = meta_spec(name, settings)
        store = Path(store_dir) / f"{spec.name}.sqlite"
        scheduler = None if client is None else client.scheduler.address
        summary = run_search(spec, store, scheduler=scheduler,
                             workers=None if client is not None else workers,
                             progress=progress)
        out[name] = (spec, store, summary)
    return out


def verdict(table: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The winning rule of one search's :func:`rule_table` and whether it wins clearly: its
    lead over the runner-up against the lead's standard error ``sqrt(sem1^2 + sem2^2)``
    (``clear`` when the lead exceeds two of them); the rules within two standard errors of
    the winner are ``tied``.

    >>> verdict([{"rule": "delta", "test": 0.95, "sem": 0.004},
    ...          {"rule": "hebb", "test": 0.945, "sem": 0.003},
    ...          {"rule": "oja", "test": 0.85, "sem": 0.01}])["tied"]
    ['delta', 'hebb']
    """
    rows = sorted(table, key=lambda r: -r["test"])
    best = rows[0]

    def se(a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
        return math.sqrt(a["sem"] ** 2 + b["sem"] ** 2)

    tied = [r["rule"] for r in rows if best["test"] - r["test"] <= 2 * se(best, r)]
    lead = best["test"] - rows[1]["test"] if len(rows) > 1 else float("nan")
    lead_se = se(best, rows[1]) if len(rows) > 1 else float("nan")
    return {"best": best["rule"], "test": best["test"], "sem": best["sem"],
            "runner_up": rows[1]["rule"] if len(rows) > 1 else None, "lead": lead,
            "lead_se": lead_se, "clear": len(tied) == 1, "tied": tied}
