"""The graph model: adding, linking, refusing cycles, values, animation, notifications."""

from __future__ import annotations

import pytest

import mattebox as mb
from mattebox.nodes import spec as specs


def test_add_names_links_and_values():
    g = mb.Graph()
    c = g.add("Constant")
    a = g.add("Grade", inputs={"Source": c}, gain=2)
    b = g.add("Grade", inputs={"Source": a})
    assert (a.name, b.name) == ("Grade1", "Grade2")
    assert a["gain"] == (2.0, 2.0, 2.0, 2.0)  # a scalar broadcasts
    assert b.input("Source") is a
    assert [n.name for n in g.upstream(b)] == ["Grade1", "Constant1"]


def test_cycles_and_self_loops_are_refused():
    g = mb.Graph()
    a = g.add("Grade")
    b = g.add("Grade", inputs={"Source": a})
    with pytest.raises(mb.GraphError, match="cycle"):
        a.set_input("Source", b)
    with pytest.raises(mb.GraphError, match="cycle"):
        a.set_input("Source", a)
    assert a.input("Source") is None


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("gain", "abc", "Grade1.gain: expected 4 numbers, got 'abc'"),
        ("gain", [1, 2], "expected 4 numbers"),
        ("mix", 2.0, "above the maximum"),
        ("black_clamp", 1, "expected true or false"),
        ("nope", 1, "Grade1.nope: Grade has no such parameter"),
    ],
)
def test_bad_values_are_refused_with_node_and_key(param, value, message):
    g = mb.Graph()
    node = g.add("Grade")
    with pytest.raises(mb.GraphError, match=message.replace("(", r"\(")):
        node[param] = value


def test_animated_values_interpolate_linearly():
    g = mb.Graph()
    node = g.add("Blur")
    node["size"] = {"keys": [[1, 0.0], [11, 10.0], [21, 0.0]]}
    assert node.value_at("size", 1) == 0.0
    assert node.value_at("size", 6) == pytest.approx(5.0)
    assert node.value_at("size", 16) == pytest.approx(5.0)
    assert node.value_at("size", 100) == 0.0


def test_duplicate_type_names_are_refused():
    class Again(specs.NodeSpec):
        type_name = "Grade"

    with pytest.raises(ValueError, match="already registered"):
        specs.register(Again)


def test_notifications_remove_rename():
    g = mb.Graph()
    events = []
    g.subscribe(lambda event, node, detail: events.append((event, detail)))
    c = g.add("Constant")
    grade = g.add("Grade", inputs={"Source": c})
    grade["gain"] = 3
    g.rename(c, "Plate")
    assert grade.inputs["Source"] == "Plate"
    g.remove("Plate")
    assert grade.input("Source") is None
    kinds = [e for e, _ in events]
    assert kinds.count("add") == 2 and "param" in kinds and "rename" in kinds
    assert kinds[-1] == "remove"
