"""Every edit goes through one undo stack that edits the engine graph; undo and redo return
the graph to equal states."""

from __future__ import annotations

from mattebox.app import clipboard, undo
from tests.app.conftest import state


def _edits(window):
    """A session of edits, one undo step each."""
    editor, doc, panel = window.editor, window.doc, window.properties
    graph = doc.graph
    yield "create", lambda: editor.create_node("Blur", (200, 0), connect_selection=False)
    yield (
        "connect",
        lambda: editor.connect_ports(
            [],
            [
                (
                    editor.view_of("Grade1").outputs()["Output"].view,
                    editor.view_of("Blur1").inputs()["Source"].view,
                )
            ],
        ),
    )

    def set_gain():
        panel.show_node("Grade1")
        panel.rows["gain"].editor.fields[1].setValue(1.7)

    yield "param", set_gain
    yield "move", lambda: doc.push(undo.MoveItems(doc, {"Blur1": ((200, 0), (220, 160))}))
    yield "rename", lambda: doc.push(undo.Rename(doc, "Blur1", "Soften"))

    def key():
        window.frame_bar.set_frame(3)
        panel.show_node("Soften")
        panel.rows["size"].key.click()

    yield "keyframe", key

    def insert_merge():
        editor.select(["Grade1"])
        editor.create_node("Merge")

    yield "insert", insert_merge
    yield "backdrop", editor.create_backdrop

    def paste():
        window.paste(clipboard.fragment(graph, ["Grade1", "Merge1"]))

    yield "paste", paste

    def delete():
        editor.select(["Merge1"])
        window.actions["delete"].trigger()

    yield "delete", delete
    yield (
        "settings",
        lambda: doc.push(
            undo.SetSettings(doc, graph.settings, type(graph.settings)(frame_range=(1, 50)))
        ),
    )


def test_undo_and_redo_return_to_equal_states(window):
    doc = window.doc
    states = [state(doc.graph)]
    start = doc.undo_stack.index()
    for label, edit in _edits(window):
        edit()
        assert doc.undo_stack.index() == start + len(states), label
        states.append(state(doc.graph))
        assert states[-1] != states[-2], label
    for expected in reversed(states[:-1]):
        doc.undo_stack.undo()
        assert state(doc.graph) == expected
    assert not window.isWindowModified()
    for expected in states[1:]:
        doc.undo_stack.redo()
        assert state(doc.graph) == expected
    assert window.isWindowModified()
    # the view follows the graph after all that
    editor = window.editor
    assert set(editor._views) == set(doc.graph.nodes)
    for node in doc.graph:
        for name, port in editor.view_of(node.name).inputs().items():
            connected = [p.node().name() for p in port.connected_ports()]
            upstream = node.inputs.get(name)
            assert connected == ([editor.view_of(upstream).name()] if upstream else [])


def test_three_undos_from_the_edit_menu(window):
    doc, graph = window.doc, window.doc.graph
    before = state(graph)
    window.editor.create_node("Blur", (200, 0), connect_selection=False)
    graph_gain = doc.push(
        undo.SetParams(doc, [("Grade1", "gain", graph["Grade1"]["gain"], (2.0,) * 4)])
    )
    assert graph_gain
    window.editor.select(["Grade1"])
    window.actions["delete"].trigger()
    for _ in range(3):
        window.actions["undo"].trigger()
    assert state(graph) == before
    window.actions["redo"].trigger()
    assert "Blur1" in graph


def test_refused_edits_leave_no_undo_step(window):
    doc = window.doc
    count = doc.undo_stack.count()
    assert not doc.push(undo.SetInputs(doc, [("Grade1", "Source", "Constant1", "Grade1")]))
    assert not doc.push(undo.Rename(doc, "Grade1", "Constant1"))
    assert doc.undo_stack.count() == count
    assert doc.graph["Grade1"].inputs == {"Source": "Constant1"}


def test_nodegraphqt_undo_stack_stays_empty(window):
    window.editor.create_node("Blur", (200, 0), connect_selection=False)
    window.editor.select(["Blur1"])
    window.actions["delete"].trigger()
    assert window.editor.view_graph.undo_stack().count() == 0
