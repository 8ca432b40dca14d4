"""``memsim rule eprop`` and ``memsim rule hybrid`` (entries of the rule registry) on small
settings, and their bad inputs."""

import re

import numpy as np
import pytest

from memsim.cli import main

pytest.importorskip("jax")
pytest.importorskip("sklearn")

LAST = re.compile(r"^test accuracy: (0\.\d{4}|1\.0000)$")


@pytest.mark.parametrize("argv", [
    ["rule", "eprop", "--small", "--epochs", "1"],
    ["rule", "eprop", "--small", "--epochs", "1", "--set", "method=rtrl", "--set",
     "n_hidden=4"],
    ["rule", "eprop", "--small", "--epochs", "1", "--set", "encoding=spikes"],
    ["rule", "hybrid", "--small", "--epochs", "1"],
    ["rule", "hybrid", "--small", "--epochs", "1", "--set", "task=faults", "--set",
     "train_faults=0.1"],
    ["rule", "hybrid", "--epochs", "1", "--set", "n_hidden=16", "--set", "task=continual"],
])
def test_rules_run_and_report_the_test_accuracy_last(argv, capsys):
    assert main([*argv, "--no-progress"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert LAST.match(out[-1])
    if "task=faults" in argv:
        assert any("without local plasticity" in line for line in out)


@pytest.mark.parametrize("argv, field", [
    (["rule", "eprop", "--set", "n_hidden=0"], "n_hidden"),
    (["rule", "eprop", "--set", "lr=-1"], "lr"),
    (["rule", "eprop", "--set", "encoding=pixels"], "encoding"),
    (["rule", "eprop", "--epochs", "0"], "epochs"),
    (["rule", "hybrid", "--set", "task=recall"], "task"),
    (["rule", "hybrid", "--set", "fault_fraction=2"], "fault_fraction"),
    (["rule", "hybrid", "--set", "train_faults=1"], "train_faults"),
])
def test_bad_values_exit_with_one_line(argv, field, capsys):
    assert main([*argv, "--small", "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"memsim: error: {field}:")


def test_rows_of_the_registry_dataset_are_the_images():
    from memsim.rules.datasets import as_sequences, load_dataset

    ds = load_dataset("digits", seed=0)
    seq = as_sequences(ds, "rows")
    np.testing.assert_array_equal(seq.x_test[5, 2], ds.x_test[5, 16:24])
    spikes = as_sequences(ds, "spikes", steps=4, seed=1)
    assert spikes.x_train.shape == (len(ds.x_train), 4, 64)
    on = spikes.x_train.mean(axis=1)                 # firing rate follows the pixel
    assert np.corrcoef(on.ravel(), ds.x_train.ravel())[0, 1] > 0.8
