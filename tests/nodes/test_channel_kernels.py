"""The engine's per-layer point kernels (MaskMix, ShufflePlane, MergeLayers, PremultBy,
ChannelOp), through the engine on every backend, against float64 numpy references.

Inputs have different data windows, so every kernel is also checked where an input has no
pixels (it reads 0) and for the output's data window. A graph is built once per test and
its parameters changed in a loop: the GPU compiles one pipeline per graph shape, not one
per case.
"""

from __future__ import annotations

import numpy as np

import mattebox as mb
from mattebox.engine.nodedocs import page
from mattebox.nodes.channel.channel_op import CHANNEL_OPERATIONS
from mattebox.nodes.channel.merge_layers import MergeLayers
from mattebox.nodes.channel.shuffle_plane import ShufflePlane
from mattebox.nodes.merge.merge import BBOXES, OPERATIONS
from mattebox.nodes.spec import Context, Format
from tests.conftest import placed as placed_inside
from tests.conftest import random_image
from tests.nodes.test_merge import FORMULAS

RTOL, ATOL = 2e-6, 1e-6  # a few float32 operations against float64

# Four overlapping windows (x0, y0, x1, y1), none covering the others, around 19×13.
W0 = (0, 0, 19, 13)
W1 = (5, 3, 22, 17)
W2 = (-4, 6, 12, 20)
W3 = (8, -3, 25, 9)


def image(window, seed, **kw):
    """Random pixels (never all zero) the size of ``window``."""
    return random_image(window[3] - window[1], window[2] - window[0], seed=seed, **kw)


def union(*windows):
    return (
        min(w[0] for w in windows),
        min(w[1] for w in windows),
        max(w[2] for w in windows),
        max(w[3] for w in windows),
    )


def intersection(a, b):
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


def placed(pixels, window, canvas):
    """``pixels`` at ``window``, seen through the box ``canvas`` (float64, zeros elsewhere;
    the window may reach outside the canvas)."""
    box = union(window, canvas)
    whole = placed_inside(pixels, window, box)
    x0, y0 = canvas[0] - box[0], canvas[1] - box[1]
    return whole[y0 : y0 + canvas[3] - canvas[1], x0 : x0 + canvas[2] - canvas[0]]


def render(graph, node, backend):
    out = graph.render(node, frame=1, backend=backend)
    return out.data_window, out.pixels


def check(graph, node, backend, expected, window, case):
    got_window, pixels = render(graph, node, backend)
    assert got_window == window, case
    np.testing.assert_allclose(pixels, expected, rtol=RTOL, atol=ATOL, err_msg=str(case))


# --------------------------------------------------------------------------- MaskMix


def reference_mask_mix(orig, proc, mask, select, mix, mask_component, invert_mask, use_mask):
    m = np.full(orig.shape[:2] + (1,), mix)
    if use_mask:
        v = mask[..., mask_component : mask_component + 1]
        m = m * (1.0 - v if invert_mask else v)
    return orig + (proc - orig) * m * np.asarray(select, np.float64)


MASK_MIX_CASES = [
    {"select": [1, 1, 1, 1], "mix": 1.0},
    {"select": [1, 0, 1, 0], "mix": 0.6},
    {"select": [0, 0, 0, 1], "mix": 0.35},
    *(
        {
            "select": [1, 1, 0, 1],
            "mix": mix,
            "use_mask": True,
            "mask_component": k,
            "invert_mask": inv,
        }
        for k in range(4)
        for inv, mix in ((False, 1.0), (True, 0.7))
    ),
]


def test_mask_mix(backend, array_source):
    orig, proc = image(W0, 1), image(W1, 2)
    mask = image(W2, 3, lo=-0.3, hi=1.4)  # beyond 0..1: the mask is not clamped
    g = mb.Graph()
    node = g.add(
        "MaskMix",
        inputs={
            "Original": array_source(g, orig, window=W0),
            "Processed": array_source(g, proc, window=W1),
            "Mask": array_source(g, mask, window=W2),
        },
    )
    out = union(W0, W1)  # the mask's window does not widen it
    o, p, m = (placed(x, w, out) for x, w in ((orig, W0), (proc, W1), (mask, W2)))
    for case in MASK_MIX_CASES:
        values = {"mask_component": 3, "invert_mask": False, "use_mask": False} | case
        for name, value in values.items():
            node[name] = value
        check(g, node, backend, reference_mask_mix(o, p, m, **values), out, case)


def test_mask_mix_without_a_mask_input(backend, array_source):
    """A Mask not connected reads 0: nothing changes, or with invert_mask, ``mix`` does."""
    orig, proc = image(W0, 4), image(W1, 5)
    g = mb.Graph()
    node = g.add(
        "MaskMix",
        inputs={
            "Original": array_source(g, orig, window=W0),
            "Processed": array_source(g, proc, window=W1),
        },
        select=[0, 1, 1, 1],
        use_mask=True,
        mix=0.8,
    )
    out = union(W0, W1)
    o, p = placed(orig, W0, out), placed(proc, W1, out)
    zero = np.zeros_like(o)
    for invert in (False, True):
        node["invert_mask"] = invert
        values = {"select": [0, 1, 1, 1], "mix": 0.8, "mask_component": 3, "use_mask": True}
        expected = reference_mask_mix(o, p, zero, invert_mask=invert, **values)
        check(g, node, backend, expected, out, invert)


# --------------------------------------------------------------------------- ShufflePlane

SHUFFLE_WINDOWS = (W0, W1, W2, W3)


def reference_shuffle(planes, values):
    """``planes``: the four inputs on the output's canvas (zeros where one is missing)."""
    shape = planes[0].shape
    out = np.empty(shape, np.float64)
    for k in range(4):
        source = values.get(f"source{k}", 0)
        if source == -1:
            out[..., k] = values.get(f"constant{k}", 0.0)
        else:
            out[..., k] = planes[source][..., values.get(f"component{k}", k)]
    return out


SHUFFLE_CASES = [
    # every component from another input
    {"source0": 1, "component0": 2, "source1": 3, "component1": 0, "source2": 2,
     "component2": 3, "source3": 0, "component3": 1},
    # two inputs and constants
    {"source0": 2, "component0": 0, "source1": -1, "constant1": 0.25, "source2": 0,
     "component2": 3, "source3": -1, "constant3": 1.0},
    # all constants: 0 and 1 only inside the inputs' windows
    {"source0": -1, "constant0": 0.5, "source1": -1, "constant1": -2.0, "source2": -1,
     "source3": -1, "constant3": 1.0},
    # one input's components rearranged
    {"source0": 0, "component0": 3, "source1": 0, "component1": 3, "source2": 0,
     "component2": 0, "source3": 0, "component3": 2},
]  # fmt: skip


def shuffle_graph(array_source, connected):
    g = mb.Graph()
    inputs, planes = {}, []
    for index, window in enumerate(SHUFFLE_WINDOWS):
        pixels = image(window, 10 + index)
        if index in connected:
            inputs[f"S{index}"] = array_source(g, pixels, window=window)
        planes.append((pixels, window))
    return g, g.add("ShufflePlane", inputs=inputs), planes


def test_shuffle_plane(backend, array_source):
    g, node, planes = shuffle_graph(array_source, connected=(0, 1, 2, 3))
    out = union(*SHUFFLE_WINDOWS)
    on_canvas = [placed(pixels, window, out) for pixels, window in planes]
    for case in SHUFFLE_CASES:
        for name, default in ShufflePlane.defaults().items():
            node[name] = case.get(name, default)
        check(g, node, backend, reference_shuffle(on_canvas, case), out, case)


def test_shuffle_plane_with_missing_inputs(backend, array_source):
    """S0 and S2 not connected: they read 0; the window is the union of S1's and S3's."""
    g, node, planes = shuffle_graph(array_source, connected=(1, 3))
    out = union(W1, W3)
    on_canvas = [placed(pixels, window, out) for pixels, window in planes]
    on_canvas[0] = on_canvas[2] = np.zeros_like(on_canvas[0])
    for case in SHUFFLE_CASES[:2]:
        for name, default in ShufflePlane.defaults().items():
            node[name] = case.get(name, default)
        check(g, node, backend, reference_shuffle(on_canvas, case), out, case)


def test_shuffle_plane_defaults_are_s0():
    values = ShufflePlane.defaults()
    assert ShufflePlane.pack(values, None) == [v for k in range(4) for v in (0.0, float(k), 0.0)]
    assert ShufflePlane.pass_through(values) == "S0"


def test_shuffle_plane_without_inputs_is_empty_in_the_script_format():
    ctx = Context(frame=1, script_format=Format(64, 32))
    info = ShufflePlane.data_window(ShufflePlane.defaults(), [None] * 4, ctx)
    assert info.format == ctx.script_format and info.data_window.empty


# --------------------------------------------------------------------------- MergeLayers


def reference_merge_layers(b, a, b_main, a_main, operation, mix):
    """Merge's formula per component with the main planes' alphas, then ``mix`` with B."""
    merged = FORMULAS[operation](a, b, a_main[..., 3:4], b_main[..., 3:4])
    return b + (merged - b) * mix


def merge_window(bbox, b, a):
    return {"union": union(b, a), "intersection": intersection(b, a), "A": a, "B": b}[bbox]


def test_merge_layers(backend, array_source):
    """Every operation (union bbox, two mixes), then every bbox. The alpha planes' windows
    differ from the layers': outside them an alpha reads 0."""
    windows = {"B": W0, "A": W1, "BAlpha": W2, "AAlpha": W3}
    pixels = {name: image(w, 20 + i) for i, (name, w) in enumerate(windows.items())}
    g = mb.Graph()
    inputs = {name: array_source(g, pixels[name], window=windows[name]) for name in windows}
    node = g.add("MergeLayers", inputs=inputs)
    cases = [(op, "union", mix) for op in OPERATIONS for mix in (1.0, 0.6)]
    # one operation for the other boxes: on the CPU each operation is a kernel of its own,
    # compiled once per box (its data window changes which inputs cover the region)
    cases += [("atop", bbox, mix) for bbox in BBOXES for mix in (1.0, 0.8)]
    for operation, bbox, mix in cases:
        node["operation"], node["bbox"], node["mix"] = operation, bbox, mix
        out = merge_window(bbox, W0, W1)
        b, a, b_main, a_main = (placed(pixels[n], windows[n], out) for n in windows)
        expected = reference_merge_layers(b, a, b_main, a_main, operation, mix)
        check(g, node, backend, expected, out, (operation, bbox, mix))


def test_merge_layers_enums_are_merges():
    assert MergeLayers.param("operation").choices == OPERATIONS
    assert MergeLayers.param("bbox").choices == BBOXES


# --------------------------------------------------------------------------- PremultBy


def reference_premult_by(source, alpha_plane, divide, select):
    alpha = alpha_plane[..., 3:4]
    if divide:
        with np.errstate(divide="ignore", invalid="ignore"):
            done = np.where(alpha != 0.0, source / alpha, source)
    else:
        done = source * alpha
    return np.where(np.asarray(select) > 0.5, done, source)


def test_premult_by(backend, array_source):
    """Alpha from another input, exactly 0 at some pixels and outside its window."""
    source = image(W0, 30, premultiplied=False)
    main = image(W1, 31)
    main[::3, ::2, 3] = 0.0
    g = mb.Graph()
    node = g.add(
        "PremultBy",
        inputs={
            "Source": array_source(g, source, window=W0),
            "Alpha": array_source(g, main, window=W1),
        },
    )
    s, m = placed(source, W0, W0), placed(main, W1, W0)
    for divide in (False, True):
        for select in ([1, 1, 1, 0], [1, 1, 1, 1], [0, 1, 0, 1]):
            node["divide"], node["select"] = divide, select
            expected = reference_premult_by(s, m, divide, select)
            check(g, node, backend, expected, W0, (divide, select))


# --------------------------------------------------------------------------- ChannelOp

CHANNEL_FORMULAS = {
    "union": lambda a, b: a + b - a * b,
    "intersect": lambda a, b: a * b,
    "plus": lambda a, b: a + b,
    "minus": lambda a, b: a - b,
    "multiply": lambda a, b: a * b,
    "min": np.minimum,
    "max": np.maximum,
    "difference": lambda a, b: np.abs(a - b),
    "stencil": lambda a, b: b * (1 - a),
    "from": lambda a, b: b - a,
    "copy": lambda a, b: a,
}


def test_channel_operations_are_stable():
    assert tuple(CHANNEL_FORMULAS) == CHANNEL_OPERATIONS


def test_channel_op(backend, array_source):
    base, a_plane, b_plane = image(W0, 40), image(W1, 41), image(W2, 42)
    g = mb.Graph()
    node = g.add(
        "ChannelOp",
        inputs={
            "Base": array_source(g, base, window=W0),
            "A": array_source(g, a_plane, window=W1),
            "B": array_source(g, b_plane, window=W2),
        },
    )
    out = union(W0, W1, W2)
    bs, aa, bb = placed(base, W0, out), placed(a_plane, W1, out), placed(b_plane, W2, out)
    for index, operation in enumerate(CHANNEL_OPERATIONS):
        a_k, b_k, out_k = index % 4, (index + 1) % 4, (3 * index + 2) % 4
        node["operation"] = operation
        node["a_component"], node["b_component"], node["out_component"] = a_k, b_k, out_k
        expected = bs.copy()
        expected[..., out_k] = CHANNEL_FORMULAS[operation](aa[..., a_k], bb[..., b_k])
        check(g, node, backend, expected, out, (operation, a_k, b_k, out_k))


# --------------------------------------------------------------------------- declarations


def test_internal_nodes_are_left_out_of_the_docs():
    text = page()
    for name in ("MaskMix", "ShufflePlane", "MergeLayers", "PremultBy", "ChannelOp"):
        assert f"## {name}\n" not in text
