"""The fuzzer (mattebox/tools/fuzz.py): a small seeded run finds no failure, and the
supervisor's classes are themselves checked with deliberate crashes, hangs, memory hogs,
tracebacks, chatter and leftover files."""

from __future__ import annotations

import pytest

from mattebox.tools import fuzz


def test_a_seeded_run_ends_in_success_or_clean_errors():
    outcomes = fuzz.run(seed=11, cases=60, time_limit=60.0)
    classes = {o.case.index: o.cls for o in outcomes}
    bad = [(o.case.index, o.case.kind, o.case.what, o.cls, o.detail) for o in outcomes
           if o.cls in fuzz.BAD]  # fmt: skip
    assert not bad, "\n".join(map(str, bad))
    assert len(classes) == 60
    kinds = {o.case.kind for o in outcomes}
    assert {"script-param", "script-json", "script-bytes", "image"} <= kinds
    assert all(o.cls == "success" for o in outcomes if o.case.kind == "pristine")
    assert "success" in classes.values() and "clean error" in classes.values()
    table = fuzz.table(outcomes)
    assert table.splitlines()[-1].startswith("| total | 60 |")


def test_the_supervisor_classifies_every_kind_of_failure():
    actions = ["crash", "hang", "memory", "traceback", "noise", "leftover"]
    outcomes = fuzz.run(
        seed=0, cases=0, selftests=actions, time_limit=3.0, memory_limit_mb=1024, startup=10.0
    )
    got = {o.case.what: o.cls for o in outcomes}
    assert got == {
        "crash": "crash",
        "hang": "hang",
        "memory": "memory",
        "traceback": "traceback",
        "noise": "noisy",
        "leftover": "leftover",
    }


def test_cases_come_from_the_seed_and_index_alone(tmp_path):
    seeds = fuzz.write_seed_images(tmp_path / "seed")
    bases = fuzz.base_scripts()
    first = [fuzz.make_case(5, i, bases, seeds) for i in range(30)]
    again = [fuzz.make_case(5, i, bases, seeds) for i in range(30)]
    assert [(c.kind, c.what, c.script, c.files) for c in first] == [
        (c.kind, c.what, c.script, c.files) for c in again
    ]
    other = [fuzz.make_case(6, i, bases, seeds) for i in range(30)]
    assert [c.script for c in first] != [c.script for c in other]


@pytest.mark.parametrize(
    ("result", "left", "expected"),
    [
        ({"status": "done", "code": 0, "stderr": ""}, [], "success"),
        ({"status": "done", "code": 0, "stderr": "warning: frames outside\n"}, [], "success"),
        ({"status": "done", "code": 1, "stderr": "error: Blur1: size too large\n"}, [], "clean error"),
        ({"status": "done", "code": 1, "stderr": "libpng warning: x\nerror: Read1: bad\n"}, [], "noisy"),
        ({"status": "done", "code": 1, "stderr": "error: a\nerror: b\n"}, [], "noisy"),
        ({"status": "done", "code": 1, "stderr": ""}, [], "noisy"),
        ({"status": "done", "code": 1, "stderr": "Traceback (most recent call last):\n"}, [], "traceback"),
        ({"status": "done", "code": 1, "stderr": "error: x (a bug: please report)\n"}, [], "traceback"),
        ({"status": "done", "code": 1, "stderr": "error: Read1: bad\n"}, ["out/.x.tmp"], "leftover"),
        ({"status": "hang"}, ["out/.x.tmp"], "hang"),
    ],
)  # fmt: skip
def test_classify(result, left, expected):
    assert fuzz.classify(result, left) == expected


def test_leftovers_names_temporaries_broken_outputs_and_a_changed_script(tmp_path):
    (tmp_path / "out").mkdir()
    script = b'{"a": 1}'
    (tmp_path / "script.mbx").write_bytes(script)
    assert fuzz.leftovers(tmp_path, script) == []
    (tmp_path / "out" / ".comp.0001.exr.tmp").write_bytes(b"x")
    (tmp_path / "out" / "comp.0002.exr").write_bytes(b"\x76\x2f\x31\x01half")
    (tmp_path / "script.mbx").write_bytes(b"{}")
    assert fuzz.leftovers(tmp_path, script) == [
        "script.mbx changed",
        "out/.comp.0001.exr.tmp",
        "out/comp.0002.exr does not read back",
    ]
