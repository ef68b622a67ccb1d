"""Groups and gizmos: the Python API, flattening (same passes, pixels and hashes as the
nodes ungrouped), nested groups, the script form and its errors, gizmo files."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import mattebox as mb
from mattebox.engine import group as groups
from mattebox.engine import render, script
from tests.conftest import random_image

GAIN, OFFSET = (1.3, 0.8, 1.1, 1.0), (0.05, -0.02, 0.1, 0.0)


def _chain(g, array_source, seed=1):
    """Read -> Grade1 -> Grade2 -> Clamp1 -> Invert1 -> Grade3, on random pixels."""
    read = array_source(g, random_image(13, 17, seed=seed), window=(2, -1, 19, 12))
    first = g.add("Grade", inputs={"Source": read}, gain=0.9)
    grade = g.add("Grade", inputs={"Source": first}, gain=GAIN, offset=OFFSET)
    clamp = g.add("Clamp", inputs={"Source": grade}, maximum=[0.9, 1.2, 0.7, 1.0])
    invert = g.add("Invert", inputs={"Source": clamp})
    last = g.add("Grade", inputs={"Source": invert}, multiply=1.1)
    return read, [first, grade, clamp, invert, last]


def _reference(pixels, last=True):
    """The chain above in float64 (without Grade3 where ``last`` is False), from the
    formulas (Grade: rgb = max(in*gain*multiply + offset, 0), alpha kept; Clamp per
    channel; Invert rgb = 1 - rgb)."""
    x = pixels.astype(np.float64)
    rgb = np.maximum(x[..., :3] * 0.9, 0)
    rgb = np.maximum(rgb * np.array(GAIN[:3]) + np.array(OFFSET[:3]), 0)
    rgb = np.minimum(np.maximum(rgb, 0), [0.9, 1.2, 0.7])
    alpha = np.minimum(np.maximum(x[..., 3], 0), 1.0)
    rgb = np.maximum((1 - rgb) * 1.1, 0) if last else 1 - rgb
    return np.concatenate([rgb, alpha[..., None]], axis=-1)


def _passes(plan):
    return [(p.kind, len(p.nodes), p.region) for p in plan.passes]


# --------------------------------------------------------------------------- the API


def test_group_collapses_the_nodes_and_rewires_the_links(array_source):
    g = mb.Graph()
    read, (_first, grade, _clamp, invert, _last) = _chain(g, array_source)
    mask = g.add("Constant", color=0.5, width=17, height=13)
    g[grade.name].set_input("Mask", mask)
    for index, node in enumerate(g):
        g.ui.setdefault("nodes", {})[node.name] = {"pos": [10.0 * index, 70.0 * index]}

    made = g.group([grade, "Clamp1", invert], name="Despill1")

    assert made.name == "Despill1" and made.type == "Group" and made.is_group
    assert set(g.nodes) == {read.name, "Grade1", "Constant1", "Despill1", "Grade3"}
    assert made.input_names == ("Input1", "Mask")
    assert made.inputs == {"Input1": "Grade1", "Mask": "Constant1"}
    assert g["Grade3"].inputs == {"Source": "Despill1"}
    inner = made.inner
    assert {n.name: n.type for n in inner} == {
        "Grade2": "Grade",
        "Clamp1": "Clamp",
        "Invert1": "Invert",
        "Input1": "Input",
        "Mask": "Input",
        "Output1": "Output",
    }
    assert inner["Grade2"].inputs == {"Source": "Input1", "Mask": "Mask"}
    assert inner["Output1"].inputs == {"Source": "Invert1"}
    assert inner["Grade2"]["gain"] == GAIN  # values moved with the nodes
    assert inner["Invert1"].path == "Despill1.Invert1"
    # the group sits at the centre of the nodes it holds; they keep their positions inside
    assert g.ui["nodes"]["Despill1"]["pos"] == [30.0, 210.0]
    assert inner.ui["nodes"]["Clamp1"]["pos"] == [30.0, 210.0]


def test_ungroup_restores_the_nodes_and_links(array_source):
    g = mb.Graph()
    _, nodes = _chain(g, array_source)
    for index, node in enumerate(g):
        g.ui.setdefault("nodes", {})[node.name] = {"pos": [10.0 * index, 70.0 * index]}
    before = g.to_dict()
    made = g.group(nodes[1:4])
    assert made.name == "Group1"
    restored = g.ungroup(made)
    assert [n.name for n in restored] == ["Grade2", "Clamp1", "Invert1"]
    assert g.to_dict() == before


def test_grouping_refuses_what_a_group_cannot_hold(array_source):
    g = mb.Graph()
    _, (_first, grade, clamp, _invert, last) = _chain(g, array_source)
    side = g.add("Invert", inputs={"Source": grade})
    with pytest.raises(mb.GraphError, match="Grade2, Clamp1 are all read from outside"):
        g.group([grade, clamp])  # Grade2 feeds Invert2 and Clamp1 feeds Invert1
    write = g.add("Write", inputs={"Source": side}, file="out.exr")
    with pytest.raises(mb.GraphError, match="Write1: a Write node cannot go into a group"):
        g.group([side, write])
    with pytest.raises(mb.GraphError, match="a node named 'Grade3' already exists"):
        g.group([clamp], name="Grade3")
    made = g.group([clamp])
    with pytest.raises(mb.GraphError, match="cycle"):  # its input from its own output
        made.set_input("Input1", last)


def test_knobs_set_and_animate_the_inner_parameter(array_source):
    g = mb.Graph()
    _, (_first, grade, clamp, _invert, _last) = _chain(g, array_source)
    made = g.group([grade, clamp])
    knob = made.expose("Grade2", "gain", name="strength")
    made.expose(made.inner["Clamp1"], "maximum")
    assert [k.name for k in made.knobs] == ["strength", "maximum"]
    assert knob == groups.Knob("strength", "Grade2", "gain")
    assert made["strength"] == GAIN
    made["strength"] = 0.5
    assert made.inner["Grade2"]["gain"] == (0.5, 0.5, 0.5, 0.5)
    made["strength"] = {"keys": [[1, 0.2], [11, 1.2]], "interpolation": "linear"}
    assert made.inner["Grade2"].value_at("gain", 6) == pytest.approx((0.7, 0.7, 0.7, 0.7))
    made["disable"] = True  # the group's own parameter
    assert made["disable"] is True
    with pytest.raises(mb.GraphError, match="Group1.strength: expected"):
        made["strength"] = "abc"
    with pytest.raises(mb.GraphError, match="Group1.nope: Group has no such knob"):
        made["nope"] = 1
    with pytest.raises(mb.GraphError, match="a knob named 'strength' already exists"):
        made.expose("Clamp1", "minimum", name="strength")
    with pytest.raises(mb.GraphError, match="not a valid knob name"):
        made.expose("Clamp1", "minimum", name="two words")
    with pytest.raises(mb.GraphError, match="Clamp1.size: Clamp has no such parameter"):
        made.expose("Clamp1", "size")
    made.inner.rename("Grade2", "Despill")  # knobs follow a renamed inner node
    assert made.knob("strength").node == "Despill"


def test_a_group_renders_its_output_and_names_what_is_missing(array_source):
    g = mb.Graph()
    _read, (first, grade, clamp, invert, last) = _chain(g, array_source)
    made = g.group([grade, clamp, invert])
    pixels = random_image(13, 17, seed=1)
    out = g.render(made, backend="cpu")
    assert out.data_window == (2, -1, 19, 12)
    expected = _reference(pixels, last=False)
    np.testing.assert_allclose(out.pixels, expected, rtol=1e-5, atol=1e-6)
    made["disable"] = True  # a disabled group passes its first input
    np.testing.assert_array_equal(
        g.render(made, backend="cpu").pixels, g.render(first, backend="cpu").pixels
    )
    made["disable"] = False
    made.set_input("Input1", None)  # nothing at an input: black there
    assert g.render(made, backend="cpu").pixels.size == 0
    made.inner["Output1"].set_input("Source", None)
    with pytest.raises(mb.RenderError, match="Group1: nothing connected to Output1 inside"):
        g.render(last, backend="cpu")
    lone = g.add("Input")
    with pytest.raises(mb.RenderError, match="Input1: an Input node works only inside a group"):
        g.render(lone, backend="cpu")


# --------------------------------------------------------------------------- flattening


def test_a_grouped_chain_renders_the_same_passes_and_pixels(backend, array_source):
    """Grade2, Clamp1 and Invert1 grouped fuse with Grade1 before and Grade3 after the
    group into one pass, as ungrouped, on both backends; pixels against the formulas."""
    plain = mb.Graph()
    _, nodes = _chain(plain, array_source)
    grouped = mb.Graph()
    _, grouped_nodes = _chain(grouped, array_source)
    made = grouped.group(grouped_nodes[1:4], name="Despill1")

    plan_plain = render.plan(plain, nodes[-1], use_cache=False, backend=backend)
    plan_grouped = render.plan(grouped, "Grade3", use_cache=False, backend=backend)
    assert _passes(plan_grouped) == _passes(plan_plain)
    assert [p.kind for p in plan_grouped.passes] == ["read", "fused"]
    fused = plan_grouped.passes[-1]
    assert [n.name for n in fused.nodes] == [
        "Grade1",
        "Despill1.Grade2",
        "Despill1.Clamp1",
        "Despill1.Invert1",
        "Grade3",
    ]

    expected = _reference(random_image(13, 17, seed=1))
    out_plain = render.render(plain, nodes[-1], backend=backend, use_cache=False)
    out_grouped = render.render(grouped, grouped["Grade3"], backend=backend, use_cache=False)
    assert out_grouped.data_window == out_plain.data_window == (2, -1, 19, 12)
    np.testing.assert_array_equal(out_grouped.pixels, out_plain.pixels)
    np.testing.assert_allclose(out_grouped.pixels, expected, rtol=1e-5, atol=1e-5)
    # an inner node renders on its own too (its Input reads the group's input)
    inner = render.render(made.inner, made.inner["Clamp1"], backend=backend, use_cache=False)
    np.testing.assert_array_equal(
        inner.pixels, render.render(plain, plain["Clamp1"], backend=backend, use_cache=False).pixels
    )


def test_area_ops_and_masks_across_the_boundary_plan_alike(backend, array_source):
    def build(grouped):
        g = mb.Graph()
        read = array_source(g, random_image(15, 19, seed=4))
        matte = array_source(g, random_image(15, 19, seed=5))
        grade = g.add("Grade", inputs={"Source": read, "Mask": matte}, gain=1.4)
        blur = g.add("Blur", inputs={"Source": grade}, size=1.7)
        sat = g.add("Saturation", inputs={"Source": blur}, saturation=0.6)
        merge = g.add("Merge", inputs={"B": read, "A": sat})
        if grouped:
            g.group([grade, blur, sat])
        return g, merge.name

    plain, name = build(False)
    grouped, _ = build(True)
    plan_plain = render.plan(plain, name, use_cache=False, backend=backend)
    plan_grouped = render.plan(grouped, name, use_cache=False, backend=backend)
    assert _passes(plan_grouped) == _passes(plan_plain)
    assert [p.kind for p in plan_grouped.passes].count("area") == 1
    np.testing.assert_array_equal(
        render.render(grouped, grouped[name], backend=backend, use_cache=False).pixels,
        render.render(plain, plain[name], backend=backend, use_cache=False).pixels,
    )


def test_hashes_do_not_depend_on_grouping(array_source):
    plain = mb.Graph()
    _, nodes = _chain(plain, array_source)
    grouped = script.from_dict(plain.to_dict())  # the same nodes reading the same file
    made = grouped.group(["Grade2", "Clamp1", "Invert1"])
    outer = render.evaluate(plain, nodes[-1], 1)
    assert render.evaluate(grouped, grouped["Grade3"], 1).hash == outer.hash
    assert render.evaluate(grouped, made, 1).hash == outer.inputs[0].hash
    inside = render.evaluate(made.inner, made.inner["Clamp1"], 1)
    assert inside.hash == render.evaluate(plain, plain["Clamp1"], 1).hash
    made["disable"] = True
    assert render.evaluate(grouped, made, 1).hash == render.evaluate(plain, plain["Grade1"], 1).hash


def test_an_inner_edit_recomputes_only_what_follows_it(array_source):
    g = mb.Graph()
    _, nodes = _chain(g, array_source)
    made = g.group(nodes[1:4], name="Despill1")
    made.expose("Clamp1", "maximum")
    g.render("Grade3", backend="cpu")
    made["maximum"] = 0.8  # the first edit materialises the edited node's input
    g.render("Grade3", backend="cpu")
    made["maximum"] = 0.6
    before = render.session().executed.copy()
    g.render("Grade3", backend="cpu")
    ran = {k for k, v in render.session().executed.items() if v != before.get(k, 0)}
    assert ran == {"Despill1.Clamp1", "Despill1.Invert1", "Grade3"}
    assert "Despill1.Clamp1" in g.hot_nodes


def test_nested_groups_render_and_round_trip(array_source, tmp_path):
    g = mb.Graph()
    _read, nodes = _chain(g, array_source)
    reference = g.render(nodes[-1], backend="cpu").pixels
    outer = g.group(nodes[1:4], name="Outer")
    inner = outer.inner.group(["Clamp1", "Invert1"], name="Inner")
    inner.expose("Clamp1", "maximum", name="ceiling")
    outer.expose("Inner", "ceiling", name="ceiling")  # a knob of a knob
    assert outer["ceiling"] == (0.9, 1.2, 0.7, 1.0)
    plan = render.plan(g, "Grade3", use_cache=False)
    assert [n.name for n in plan.passes[-1].nodes] == [
        "Grade1",
        "Outer.Grade2",
        "Outer.Inner.Clamp1",
        "Outer.Inner.Invert1",
        "Grade3",
    ]
    np.testing.assert_array_equal(g.render("Grade3", backend="cpu").pixels, reference)

    path = tmp_path / "nested.mbx"
    g.save(path)
    loaded = mb.load(path)
    assert script.dumps(loaded.to_dict()) == path.read_text()
    np.testing.assert_array_equal(loaded.render("Grade3", backend="cpu").pixels, reference)
    loaded["Outer"]["ceiling"] = 0.5
    assert loaded["Outer"].inner["Inner"].inner["Clamp1"]["maximum"] == (0.5,) * 4


# --------------------------------------------------------------------------- scripts


def test_a_group_saves_nested_in_its_entry_and_round_trips(array_source, tmp_path):
    g = mb.Graph()
    _, nodes = _chain(g, array_source)
    mask = g.add("Constant", color=0.5, width=17, height=13)
    g["Grade2"].set_input("Mask", mask)
    made = g.group(nodes[1:4], name="Despill1")
    made.expose("Grade2", "gain", name="strength")
    made["strength"] = {"keys": [[1, 0.5], [10, 1.5]], "interpolation": "smooth"}
    path = tmp_path / "comp.mbx"
    g.save(path)
    entry = json.loads(path.read_text())["nodes"]["Despill1"]
    assert set(entry) == {"type", "version", "params", "inputs", "group"}
    assert entry["type"] == "Group" and entry["version"] == 1 and entry["params"] == {}
    assert entry["inputs"] == {"Input1": "Grade1", "Mask": "Constant1"}
    block = entry["group"]
    assert block["inputs"] == ["Input1", "Mask"]
    assert block["knobs"] == [{"name": "strength", "node": "Grade2", "param": "gain"}]
    assert block["nodes"]["Grade2"]["params"]["gain"]["interpolation"] == "smooth"
    assert block["nodes"]["Clamp1"]["params"] == {"maximum": [0.9, 1.2, 0.7, 1.0]}  # non-defaults
    assert block["nodes"]["Output1"] == {
        "type": "Output",
        "version": 1,
        "params": {},
        "inputs": {"Source": "Invert1"},
    }
    loaded = mb.load(path)
    assert script.dumps(loaded.to_dict()) == path.read_text()
    assert loaded["Despill1"].value_at("strength", 10) == (1.5, 1.5, 1.5, 1.5)
    assert loaded["Despill1"].inner["Grade2"].value_at("gain", 10) == (1.5, 1.5, 1.5, 1.5)
    np.testing.assert_array_equal(
        loaded.render("Grade3", backend="cpu").pixels, g.render("Grade3", backend="cpu").pixels
    )


def _script_with(block_edit=None, entry_edit=None) -> str:
    g = mb.Graph()
    board = g.add("Checkerboard", size=4, width=16, height=16)
    grade = g.add("Grade", inputs={"Source": board}, gain=1.2)
    made = g.group([grade], name="Despill1")
    made.expose("Grade1", "gain", name="strength")
    data = g.to_dict()
    if block_edit:
        block_edit(data["nodes"]["Despill1"]["group"])
    if entry_edit:
        entry_edit(data["nodes"]["Despill1"])
    return script.dumps(data)


BAD_GROUPS = [
    (None, lambda e: e.__setitem__("group", []), "Despill1.group: expected an object"),
    (
        lambda b: b["nodes"]["Grade1"]["params"].__setitem__("gain", "abc"),
        None,
        "Despill1: Grade1.gain: expected",
    ),
    (
        lambda b: b["knobs"][0].__setitem__("node", "Grade9"),
        None,
        "Despill1.group.knobs[0]: no node named 'Grade9' in the group",
    ),
    (
        lambda b: b["knobs"][0].__setitem__("param", "size"),
        None,
        "Despill1.group.knobs[0]: Grade1.size: Grade has no such parameter",
    ),
    (
        lambda b: b["knobs"].append({"name": "strength", "node": "Grade1", "param": "offset"}),
        None,
        "Despill1.group.knobs[1]: a knob named 'strength' already exists",
    ),
    (
        lambda b: b["knobs"].__setitem__(0, {"name": "x"}),
        None,
        "Despill1.group.knobs[0]: expected an object with name, node and param",
    ),
    (
        lambda b: b.__setitem__("inputs", ["Grade1"]),
        None,
        "Despill1.group.inputs: 'Grade1' is not an Input node in the group",
    ),
    (
        lambda b: b["nodes"].__setitem__("Output2", dict(b["nodes"]["Output1"])),
        None,
        "Despill1.group: more than one Output node (Output1, Output2)",
    ),
    (lambda b: b.__setitem__("extra", 1), None, "Despill1.group.extra: not a key of a group"),
    (
        lambda b: b["nodes"]["Grade1"]["inputs"].__setitem__("Source", "Read9"),
        None,
        "Despill1: Grade1.inputs.Source: no node named 'Read9'",
    ),
    (None, lambda e: e["params"].__setitem__("strength", 2), "Despill1.strength: a group has no"),
    (
        None,
        lambda e: e["inputs"].__setitem__("Source", "Checkerboard1"),
        "Despill1.inputs.Source: Group has no input 'Source'",
    ),
]


@pytest.mark.parametrize("block_edit, entry_edit, message", BAD_GROUPS)
def test_bad_group_data_is_one_clear_error(block_edit, entry_edit, message):
    text = _script_with(block_edit, entry_edit)
    with pytest.raises(mb.ScriptError) as caught:
        script.loads(text, source="comp.mbx")
    assert str(caught.value).startswith("comp.mbx: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_editor_fragments_of_groups_round_trip():
    """Copy/paste and undo go through script fragments: a group survives them."""
    g = mb.Graph()
    board = g.add("Checkerboard", size=4, width=16, height=16)
    grade = g.add("Grade", inputs={"Source": board}, gain=1.2)
    made = g.group([grade], name="Despill1")
    made.expose("Grade1", "gain", name="strength")
    fragment = g.to_dict(["Despill1"])
    other = mb.Graph()
    script.from_dict(json.loads(json.dumps(fragment)), graph=other)
    assert other["Despill1"]["strength"] == (1.2,) * 4
    assert other["Despill1"].inputs == {}  # a link to a node left out is left out
    assert other.to_dict(["Despill1"])["nodes"] == fragment["nodes"] | {
        "Despill1": fragment["nodes"]["Despill1"] | {"inputs": {}}
    }


# --------------------------------------------------------------------------- gizmos


@pytest.fixture
def gizmo_dirs(tmp_path, monkeypatch):
    """Two search-path folders and a config folder, nothing else on the path."""
    first, second, config = tmp_path / "studio", tmp_path / "show", tmp_path / "config"
    monkeypatch.setenv("MATTEBOX_GIZMO_PATH", f"{first}{groups.os.pathsep}{second}")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return first, second, config / "mattebox" / "gizmos"


def _despill_group(strength=1.2):
    g = mb.Graph()
    board = g.add("Checkerboard", size=4, width=16, height=12)
    grade = g.add("Grade", inputs={"Source": board}, gain=strength)
    sat = g.add("Saturation", inputs={"Source": grade}, saturation=0.4)
    made = g.group([grade, sat], name="Despill1")
    made.expose("Grade1", "gain", name="strength")
    made.expose("Saturation1", "saturation")
    return g, made


def test_gizmos_are_found_on_the_search_path(gizmo_dirs):
    first, second, config = gizmo_dirs
    assert groups.search_path() == [first, second, config]
    _, made = _despill_group()
    written = made.save_gizmo(second / "MyDespill.mbx", doc="Despill with knobs")
    assert written == second / "MyDespill.mbx"
    made.save_gizmo(config / "Glint", version=3)  # the suffix is added
    made.save_gizmo(first / "MyDespill.mbx", version=2)  # earlier on the path: it wins
    (first / "Broken.mbx").write_text("{not json")
    (first / "Grade.mbx").write_text(json.dumps({"gizmo": {"type": "Grade", "version": 1}}))
    with pytest.warns(mb.ScriptWarning) as caught:
        found = groups.gizmos()
    assert sorted(found) == ["Glint", "MyDespill"]
    assert found["MyDespill"].version == 2 and found["MyDespill"].path == first / "MyDespill.mbx"
    assert found["Glint"].version == 3
    messages = " ".join(str(w.message) for w in caught)
    assert "Broken.mbx: not a readable gizmo" in messages
    assert "'Grade' is a built-in node type's name" in messages
    header = json.loads((second / "MyDespill.mbx").read_text())["gizmo"]
    assert header == {
        "type": "MyDespill",
        "version": 1,
        "doc": "Despill with knobs",
        "inputs": ["Input1"],
        "knobs": [
            {"name": "strength", "node": "Grade1", "param": "gain"},
            {"name": "saturation", "node": "Saturation1", "param": "saturation"},
        ],
    }
    # a gizmo file is a script too: it opens for editing
    assert set(mb.load(second / "MyDespill.mbx").nodes) == {
        "Grade1",
        "Saturation1",
        "Input1",
        "Output1",
    }


def test_graph_add_makes_a_gizmo_instance_that_renders_like_the_group(gizmo_dirs, capsys):
    first, _, _ = gizmo_dirs
    g, made = _despill_group()
    made.save_gizmo(first / "MyDespill.mbx", doc="Despill with knobs")
    reference = g.render(made, backend="cpu").pixels
    comp = mb.Graph()
    board = comp.add("Checkerboard", size=4, width=16, height=12)
    node = comp.add("MyDespill", inputs={"Input1": board}, saturation=0.4)
    assert node.name == "MyDespill1" and node.type == "MyDespill" and node.version == 1
    assert node.is_gizmo and [k.name for k in node.knobs] == ["strength", "saturation"]
    np.testing.assert_array_equal(comp.render(node, backend="cpu").pixels, reference)
    node["strength"] = 0.5
    half = comp.render(node, backend="cpu").pixels
    assert not np.array_equal(half, reference)
    with pytest.raises(mb.GraphError, match="unknown node type 'NoSuchGizmo'"):
        comp.add("NoSuchGizmo")
    from mattebox.app import cli

    assert cli.main(["nodes"]) == 0
    listed = capsys.readouterr().out
    assert "MyDespill" in listed and "Despill with knobs" in listed and "Group" in listed


def test_a_script_keeps_its_gizmo_contents_whatever_is_installed(gizmo_dirs, tmp_path):
    first, _, _ = gizmo_dirs
    _, made = _despill_group()
    made.save_gizmo(first / "MyDespill.mbx")
    comp = mb.Graph()
    board = comp.add("Checkerboard", size=4, width=16, height=12)
    node = comp.add("MyDespill", inputs={"Input1": board}, strength=0.7)
    saved = tmp_path / "comp.mbx"
    comp.save(saved)
    entry = json.loads(saved.read_text())["nodes"]["MyDespill1"]
    assert entry["type"] == "MyDespill" and entry["version"] == 1 and "group" in entry
    reference = comp.render(node, backend="cpu").pixels

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # installed, same version: no warning
        same = mb.load(saved)
    assert script.dumps(same.to_dict()) == saved.read_text()

    (first / "MyDespill.mbx").unlink()  # the gizmo is missing: its saved contents load
    with pytest.warns(mb.ScriptWarning, match="gizmo 'MyDespill' is not installed"):
        missing = mb.load(saved)
    assert script.dumps(missing.to_dict()) == saved.read_text()
    np.testing.assert_array_equal(missing.render("MyDespill1", backend="cpu").pixels, reference)

    _, newer = _despill_group(strength=2.0)  # v2 changes the inside
    newer.inner["Grade1"]["offset"] = 0.1
    newer.save_gizmo(first / "MyDespill.mbx", version=2)
    with pytest.warns(mb.ScriptWarning, match="MyDespill v2 is installed, the script saved v1"):
        old = mb.load(saved)
    np.testing.assert_array_equal(old.render("MyDespill1", backend="cpu").pixels, reference)
    old["MyDespill1"].update_gizmo()  # takes v2, keeps the knob values it had
    updated = old["MyDespill1"]
    assert updated.version == 2 and updated["strength"] == (0.7,) * 4
    assert updated["saturation"] == 0.4 and updated.inner["Grade1"]["offset"] == (0.1,) * 4
    assert updated.inputs == {"Input1": "Checkerboard1"}
    assert not np.array_equal(old.render("MyDespill1", backend="cpu").pixels, reference)
