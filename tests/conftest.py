import hashlib
import os
import sqlite3

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


@pytest.fixture
def folder_digests():
    """SHA-256 of every file in a folder, by name: compare before and after to show that a
    command touched no file (and created none)."""
    return _digests


@pytest.fixture
def foreign_stores(tmp_path):
    """``tmp_path`` holding files that are not memsim stores and must survive any command
    pointed at them: a text file, and another application's SQLite database."""
    (tmp_path / "notes.txt").write_text("do not overwrite me\n")
    con = sqlite3.connect(tmp_path / "other.sqlite")
    con.execute("CREATE TABLE results (key TEXT)")
    con.execute("INSERT INTO results VALUES ('precious')")
    con.commit()
    con.close()
    return tmp_path
