"""The profiling view: the panel's table, the labels under nodes, the cache line and
Clear Cache, wired to the viewer's profiled renders."""

from __future__ import annotations

from PySide6 import QtCore

from mattebox.app import profiling
from mattebox.engine import render
from tests.app.conftest import wait_render


def _profiled(qtbot, window, action):
    """Trigger ``action`` (showing the panel or the labels turns profiling on), let the
    window settle, then render from an empty cache; the stats of that render."""
    with qtbot.waitSignal(window.viewer.profiled, timeout=20000):
        window.actions[action].trigger()
    wait_render(qtbot, window)  # (a dock that opens resizes the viewer: renders again)
    return _rendered(qtbot, window, clear=True)


def _rendered(qtbot, window, clear=False):
    """Render the viewed node again (from an empty cache with ``clear``); its stats."""
    if clear:
        render.session().cache.clear()
    with qtbot.waitSignal(window.viewer.profiled, timeout=20000) as blocker:
        window.viewer.schedule()
    wait_render(qtbot, window)
    return blocker.args[0]


def test_the_panel_lists_each_node_of_the_viewed_render(window, qtbot):
    window.doc.graph["Grade1"]["gain"] = 1.5  # (at its defaults a Grade passes through)
    wait_render(qtbot, window)
    assert not window.viewer.profile  # nothing shown: renders are not profiled
    assert window.viewer.last_result.layers[0].stats is None
    stats = _profiled(qtbot, window, "profiling_panel")
    panel = window.profiling.panel
    assert window.profiling.dock.isVisible() and window.viewer.profile
    assert stats is panel.stats and stats.node == "Grade1"
    rows = {row[0]: row for row in panel.rows()}
    assert set(rows) == {"Constant1", "Grade1"}
    for name, row in rows.items():
        entry = stats.nodes[name]
        assert row[1] == entry.type
        assert row[2] == f"{entry.seconds * 1000:.2f}"
        assert row[3] == "no" and entry.seconds > 0
        assert row[4] == f"{stats.share(name) * 100:.1f}%"
    assert "Grade1 at frame 1" in panel.summary.text()
    # sorted by time, slowest first; the header sorts by name
    times = [float(row[2]) for row in panel.rows()]
    assert times == sorted(times, reverse=True)
    panel.table.sortByColumn(0, QtCore.Qt.SortOrder.AscendingOrder)
    assert [row[0] for row in panel.rows()] == ["Constant1", "Grade1"]
    # the cache's size and budget, in the panel and the status bar
    cache = render.session().cache
    assert cache.bytes > 0
    text = f"cache {profiling.size_text(cache.bytes)} / {profiling.size_text(cache.budget)}"
    assert panel.cache_label.text() == text == window.profiling.status.text()

    # the same frame again: everything from the cache
    again = _rendered(qtbot, window)
    assert {row[0]: row[3] for row in panel.rows()} == {"Constant1": "yes", "Grade1": "yes"}
    assert again.nodes["Grade1"].cached

    # a double-click on a row selects its node
    panel.table.cellDoubleClicked.emit(1, 0)
    assert window.editor.selected_names() == ["Grade1"]


def test_render_times_under_the_nodes_toggle_from_the_view_menu(window, qtbot):
    window.doc.graph["Grade1"]["gain"] = 1.5
    wait_render(qtbot, window)
    stats = _profiled(qtbot, window, "profile_labels")
    assert window.actions["profile_labels"].isChecked() and window.viewer.profile
    for name in ("Constant1", "Grade1"):
        label = window.editor.view_of(name).view.profile
        assert label.isVisible()
        assert label.text == profiling.label_for(stats.nodes[name])
        assert label.text.endswith(" ms")
        # under the node, starting at its left edge, clear of the output in the middle
        item = window.editor.view_of(name).view
        assert label.pos().y() >= item.boundingRect().height()
        assert label.boundingRect().width() < item.boundingRect().width() / 2
    window.actions["profile_labels"].trigger()  # off again
    assert not window.viewer.profile
    assert not window.editor.view_of("Grade1").view.profile.isVisible()


def test_clear_cache_empties_it_and_the_next_render_computes(window, qtbot):
    window.doc.graph["Grade1"]["gain"] = 1.5
    wait_render(qtbot, window)
    _profiled(qtbot, window, "profiling_panel")
    assert _rendered(qtbot, window).nodes["Grade1"].cached
    with qtbot.waitSignal(window.viewer.profiled, timeout=20000) as blocker:
        window.profiling.panel.clear_button.click()
        assert render.session().cache.bytes == 0
        assert window.profiling.status.text().startswith("cache 0 KiB / ")
    wait_render(qtbot, window)
    after = blocker.args[0]
    assert not after.nodes["Grade1"].cached and not after.nodes["Constant1"].cached
    assert render.session().cache.bytes > 0


def test_labels_for_fused_and_cached_nodes():
    from mattebox.engine.stats import NodeStats

    assert profiling.label_for(NodeStats("A", "Grade", 0.0123)) == "12.3 ms"
    fused = NodeStats("A", "Grade", 0.002, fused_with=("B", "C"))
    assert profiling.label_for(fused) == "2.0 ms \u00b7 fused 3"
    assert profiling.label_for(NodeStats("A", "Grade", cached=True)) == "cached"
    assert profiling.time_text(0.00001) == "<0.1 ms"
    assert profiling.size_text(3 * 2**30) == "3.0 GiB"
