"""Roto, through the engine on every backend, against references written here in float64:
the exact area of a polygon in each pixel (the polygon clipped to the pixel square,
shoelace area), Béziers flattened very finely, and the feather from its formula (distance
to the outline over the feather at the nearest point, shaped by the falloff)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import mattebox as mb
from mattebox.engine import render as engine_render
from mattebox.engine.graph import GraphError
from mattebox.engine.script import ScriptError
from mattebox.nodes.kernel import wgsl_source
from mattebox.nodes.source.roto import FLATNESS, Roto
from mattebox.nodes.spec import get as get_spec
from tests.conftest import compile_wgsl, random_image

TOLERANCE = 2e-4  # float32 on the GPU; the CPU agrees with float64 to 1e-9
SIZE = (28, 22)


# --------------------------------------------------------------------------- references


def clip(polygon, axis, bound, keep_below):
    """Sutherland-Hodgman: the part of ``polygon`` (a list of (x, y)) on one side of the
    line ``coordinate[axis] = bound``."""
    out = []
    for k, p in enumerate(polygon):
        q = polygon[(k + 1) % len(polygon)]
        p_in = (p[axis] <= bound) if keep_below else (p[axis] >= bound)
        q_in = (q[axis] <= bound) if keep_below else (q[axis] >= bound)
        if p_in:
            out.append(p)
        if p_in != q_in:
            t = (bound - p[axis]) / (q[axis] - p[axis])
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def area(polygon):
    if len(polygon) < 3:
        return 0.0
    xy = np.array(polygon)
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def coverage(polygon, box):
    """The area of a simple polygon in each pixel of ``box`` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    out = np.zeros((y1 - y0, x1 - x0))
    xy = np.array(polygon)
    for j in range(y0, y1):
        if xy[:, 1].max() <= j or xy[:, 1].min() >= j + 1:
            continue
        band = clip(clip(list(map(tuple, xy)), 1, j, False), 1, j + 1, True)
        for i in range(x0, x1):
            if band:
                cell = clip(clip(band, 0, i, False), 0, i + 1, True)
                out[j - y0, i - x0] = area(cell)
    return out


def profile(w, falloff):
    return w if falloff == "linear" else w * w * (3.0 - 2.0 * w)


def feathered(polygon, feather, falloff, box):
    """The value of a polygon with per-point feather over ``box``: ``c w_in + (1 - c)
    w_out`` with the feather bands measured at pixel centres (the docstring's formula)."""
    x0, y0, x1, y1 = box
    c = coverage(polygon, box)
    ys, xs = np.mgrid[y0:y1, x0:x1] + 0.5
    out_d = np.ones(c.shape)
    in_d = np.ones(c.shape)
    n = len(polygon)
    for k in range(n):
        a, b = np.array(polygon[k], float), np.array(polygon[(k + 1) % n], float)
        e = b - a
        u = np.clip(((xs - a[0]) * e[0] + (ys - a[1]) * e[1]) / np.dot(e, e), 0.0, 1.0)
        d = np.hypot(xs - (a[0] + u * e[0]), ys - (a[1] + u * e[1]))
        f = feather[k] + (feather[(k + 1) % n] - feather[k]) * u
        with np.errstate(divide="ignore", invalid="ignore"):
            out_d = np.where(f > 0, np.minimum(out_d, d / f), out_d)
            in_d = np.where(f < 0, np.minimum(in_d, d / -f), in_d)
    w_out = np.where(out_d < 1, profile(1 - out_d, falloff), 0.0)
    w_in = np.where(in_d < 1, profile(in_d, falloff), 1.0)
    return c * w_in + (1 - c) * w_out


def bezier_polygon(points, pieces=400):
    """A closed Bézier shape (points as [x, y, in_dx, in_dy, out_dx, out_dy]) flattened
    into ``pieces`` steps per segment, from the Bernstein form."""
    out = []
    t = np.linspace(0.0, 1.0, pieces, endpoint=False)[:, None]
    for k, a in enumerate(points):
        b = points[(k + 1) % len(points)]
        p0, p3 = np.array(a[:2], float), np.array(b[:2], float)
        p1, p2 = p0 + a[4:6], p3 + b[2:4]
        curve = (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3
        out += [tuple(p) for p in curve]
    return out


def star_polygon(rng, centre, radius, count):
    """A random simple polygon: ``count`` points at sorted random angles and radii."""
    angles = np.sort(rng.uniform(0.0, 2 * np.pi, count))
    radii = rng.uniform(0.35, 1.0, count) * radius
    return [(centre[0] + r * np.cos(a), centre[1] + r * np.sin(a)) for a, r in zip(angles, radii)]


def fresh(g, node, backend, **kw):
    """A render that ignores the process's cache: the same graph rendered on the other
    backend earlier in the session must not answer for this one."""
    return engine_render.render(
        g, node, frame=kw.pop("frame", 1), backend=backend, use_cache=False, **kw
    )


def render(backend, shapes, region=None, proxy=1, frame=1, script_format=SIZE, **params):
    g = mb.Graph()
    g.settings.format = mb.Format(*script_format)
    node = g.add("Roto", shapes=shapes, **params)
    return fresh(g, node, backend, frame=frame, region=region, proxy=proxy)


def alpha_over(image, box):
    """The alpha of ``image`` over ``box`` (black outside its data window)."""
    return image.crop(box)[..., 3]


# --------------------------------------------------------------------------- coverage


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_polygons_cover_their_exact_area(backend, seed):
    rng = np.random.default_rng(seed)
    polygon = star_polygon(rng, rng.uniform(9, 19, 2), rng.uniform(6, 12), int(rng.integers(3, 9)))
    if seed == 2:
        polygon = polygon[::-1]  # either winding fills
    out = render(backend, [{"points": [list(p) for p in polygon]}])
    box = (-2, -2, SIZE[0] + 2, SIZE[1] + 2)
    expected = coverage(polygon, box)
    np.testing.assert_allclose(alpha_over(out, box), expected, rtol=0, atol=TOLERANCE)
    assert expected.max() == pytest.approx(1.0) and 0.0 < expected.mean() < 1.0
    np.testing.assert_array_equal(out.pixels[..., :3], 0.0)


def test_bezier_shape_against_a_fine_flattening(backend):
    points = [
        [5.0, 6.0, 0.0, 0.0, 9.0, -4.0],
        [23.0, 5.5, -3.0, -3.0, 2.0, 7.0],
        [19.5, 18.0, 5.0, 1.5, -6.0, 0.5],
        [7.25, 16.5, 1.0, 4.0, -1.0, -4.0],
    ]
    out = render(backend, [{"points": points}])
    box = (0, 0) + SIZE
    expected = coverage(bezier_polygon(points), box)
    # the node's polyline strays at most FLATNESS from the curve: that much area per pixel
    np.testing.assert_allclose(alpha_over(out, box), expected, rtol=0, atol=1.5 * FLATNESS)
    assert out.pixels[..., 3].sum() == pytest.approx(expected.sum(), rel=2e-3)


def test_shape_of_one_corner_and_curves_is_what_a_polygon_of_zero_tangents_is(backend):
    corners = [[4.5, 3.0], [22.0, 7.5], [12.0, 19.0]]
    six = [[x, y, 0, 0, 0, 0] for x, y in corners]
    one = render(backend, [{"points": corners}])
    other = render(backend, [{"points": six}])
    np.testing.assert_array_equal(one.pixels, other.pixels)


# --------------------------------------------------------------------------- feather


@pytest.mark.parametrize("falloff", ["smooth", "linear"])
def test_feather_profile_along_a_line(backend, falloff):
    """A square on whole pixels, feathered 6 px out: along the middle row, pixels right of
    the edge at distance d from it (pixel centres) are ``profile(1 - d / 6)``, and the
    corners round off with the distance to the corner point."""
    square = [[6, 5], [16, 5], [16, 15], [6, 15]]
    out = render(backend, [{"points": square, "feather": 6, "feather_falloff": falloff}])
    assert out.data_window == (0, -1, 22, 21)
    row = out.crop((16, 10, 24, 11))[0, :, 3]
    d = np.arange(8) + 0.5
    w = np.clip(1 - d / 6, 0, 1)
    np.testing.assert_allclose(row, profile(w, falloff), rtol=0, atol=TOLERANCE)
    ys, xs = np.mgrid[-1:21, 0:22] + 0.5
    dist = np.hypot(
        np.maximum(np.maximum(6 - xs, xs - 16), 0), np.maximum(np.maximum(5 - ys, ys - 15), 0)
    )
    expected = np.where(dist == 0, 1.0, profile(np.clip(1 - dist / 6, 0, 1), falloff))
    np.testing.assert_allclose(out.pixels[..., 3], expected, rtol=0, atol=TOLERANCE)


def test_inward_feather_rises_from_the_edge(backend):
    square = [[4, 3], [20, 3], [20, 19], [4, 19]]
    out = render(backend, [{"points": square, "feather": -5, "feather_falloff": "linear"}])
    assert out.data_window == (4, 3, 20, 19)
    ys, xs = np.mgrid[3:19, 4:20] + 0.5
    inside = np.minimum(np.minimum(xs - 4, 20 - xs), np.minimum(ys - 3, 19 - ys))
    np.testing.assert_allclose(out.pixels[..., 3], np.minimum(inside / 5, 1), atol=TOLERANCE)


@pytest.mark.parametrize("seed", [4, 5])
def test_random_polygons_with_per_point_feather(backend, seed):
    rng = np.random.default_rng(seed)
    polygon = star_polygon(rng, (14, 11), 8, 6)
    feather = [float(v) for v in rng.uniform(-3, 5, 6)]
    falloff = ("smooth", "linear")[seed % 2]
    shape = {"points": [list(p) for p in polygon], "feather": feather, "feather_falloff": falloff}
    out = render(backend, [shape])
    box = (-4, -4, SIZE[0] + 4, SIZE[1] + 4)
    expected = feathered(polygon, feather, falloff, box)
    np.testing.assert_allclose(alpha_over(out, box), expected, rtol=0, atol=TOLERANCE)
    assert ((expected > 0.01) & (expected < 0.99)).sum() > 40  # a real band


# --------------------------------------------------------------------------- compositing


@pytest.mark.parametrize("blend", ["over", "add", "subtract"])
def test_blend_modes_invert_and_opacity(backend, blend):
    rng = np.random.default_rng(11)
    first = star_polygon(rng, (11, 10), 8, 5)
    second = star_polygon(rng, (16, 12), 7, 6)
    third = star_polygon(rng, (8, 15), 5, 4)
    shapes = [
        {"name": "one", "points": [list(p) for p in first], "opacity": 0.8},
        {"name": "two", "points": [list(p) for p in second], "blend": blend, "opacity": 0.6},
        {
            "name": "three",
            "points": [list(p) for p in third],
            "invert": True,
            "blend": blend,
            "opacity": 0.35,
        },
        {"name": "off", "points": [[0, 0], [20, 0], [20, 20]], "enabled": False},
        {"name": "open", "points": [[0, 0], [20, 0], [20, 20]], "closed": False},
    ]
    out = render(backend, shapes)
    assert out.data_window == (0, 0) + SIZE  # the inverted shape covers the format
    box = (0, 0) + SIZE
    a, b = 0.8 * coverage(first, box), 0.6 * coverage(second, box)
    c = 0.35 * (1 - coverage(third, box))
    expected = np.zeros_like(a)
    for v, mode in ((a, "over"), (b, blend), (c, blend)):
        if mode == "over":
            expected = v + expected * (1 - v)
        elif mode == "add":
            expected = np.minimum(1, expected + v)
        else:
            expected = np.maximum(0, expected - v)
    np.testing.assert_allclose(out.pixels[..., 3], expected, rtol=0, atol=TOLERANCE)


def test_inverted_shape_is_zero_outside_the_format(backend):
    shapes = [
        {"name": "big", "points": [[-6, -4], [10, -4], [10, 8], [-6, 8]]},
        {"name": "hole", "points": [[3, 3], [8, 3], [8, 6]], "invert": True, "blend": "add"},
    ]
    out = render(backend, shapes, script_format=(12, 10))
    assert out.data_window == (-6, -4, 12, 10)
    box = (-6, -4, 12, 10)
    big = coverage([(-6, -4), (10, -4), (10, 8), (-6, 8)], box)
    hole = 1 - coverage([(3, 3), (8, 3), (8, 6)], box)
    hole[:4, :] = 0.0  # rows above the format
    hole[:, :6] = 0.0  # columns left of it
    np.testing.assert_allclose(out.pixels[..., 3], np.minimum(1, big + hole), atol=TOLERANCE)


def test_a_region_off_the_origin_is_that_part_of_the_whole(backend):
    rng = np.random.default_rng(21)
    polygon = star_polygon(rng, (14, 11), 9, 7)
    shapes = [{"points": [list(p) for p in polygon], "feather": [2, -1, 3, 0, 1, 2, -2]}]
    whole = render(backend, shapes)
    x0, y0, x1, y1 = whole.data_window
    region = (x0 + 3, y0 + 2, x1 - 2, y1 - 4)
    part = render(backend, shapes, region=region)
    assert part.data_window == region
    np.testing.assert_allclose(part.pixels, whole.crop(region), rtol=0, atol=1e-6)


def test_tiled_render_is_the_same_matte(backend, monkeypatch):
    """Small memory budgets cut the render into bands of rows: the same pixels."""
    monkeypatch.setenv("MATTEBOX_CPU_MEMORY", "0.004")
    monkeypatch.setenv("MATTEBOX_GPU_MEMORY", "0.004")
    rng = np.random.default_rng(8)
    polygon = star_polygon(rng, (16, 34), 30, 7)  # taller than 3 bands of 16 rows
    feather = [float(v) for v in rng.uniform(-2, 3, 7)]
    g = mb.Graph()
    g.settings.format = mb.Format(32, 70)
    node = g.add("Roto", shapes=[{"points": [list(p) for p in polygon], "feather": feather}])
    assert len(engine_render.plan(g, node, 1, backend=backend).tiles) > 2
    out = fresh(g, node, backend)
    expected = feathered(polygon, feather, "smooth", out.data_window)
    np.testing.assert_allclose(out.pixels[..., 3], expected, rtol=0, atol=TOLERANCE)


def test_an_inverted_shape_keys_its_cache_by_the_script_format():
    g = mb.Graph()
    g.settings.format = mb.Format(12, 10)
    node = g.add("Roto", shapes=[{"points": [[2, 2], [6, 2], [4, 6]], "invert": True}])
    small = engine_render.evaluate(g, node, 1).hash
    g.settings.format = mb.Format(14, 10)
    assert engine_render.evaluate(g, node, 1).hash != small
    node["shapes"] = [{"points": [[2, 2], [6, 2], [4, 6]]}]
    plain = engine_render.evaluate(g, node, 1).hash
    g.settings.format = mb.Format(12, 10)
    assert engine_render.evaluate(g, node, 1).hash == plain


# --------------------------------------------------------------------------- animation


def test_animated_shapes_at_an_in_between_frame(backend):
    key1 = [
        {"name": "moving", "points": [[3, 3], [12, 4], [8, 12]], "feather": [2, 0, 1]},
        {"name": "gone", "points": [[15, 12], [25, 12], [20, 20]]},
    ]
    key2 = [
        {
            "name": "moving",
            "points": [[9, 5], [24, 8], [14, 19]],
            "feather": [4, 2, 1],
            "opacity": 0.5,
        },
        {"name": "gone", "points": [[15, 12], [25, 12], [20, 20], [16, 19]]},  # 4 points: held
    ]
    animated = {"keys": [[1, key1], [5, key2]], "interpolation": "linear"}
    out = render(backend, animated, frame=2.5)
    t = 1.5 / 4
    points = [
        (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
        for a, b in zip(key1[0]["points"], key2[0]["points"])
    ]
    feather = [a + (b - a) * t for a, b in zip([2, 0, 1], [4, 2, 1])]
    opacity = 1 + (0.5 - 1) * t
    box = (0, 0) + SIZE
    moving = opacity * feathered(points, feather, "smooth", box)
    gone = coverage([(15, 12), (25, 12), (20, 20)], box)
    expected = gone + moving * (1 - gone)
    np.testing.assert_allclose(alpha_over(out, box), expected, rtol=0, atol=TOLERANCE)


def test_shapes_keys_interpolate_smooth_and_constant():
    param = Roto.param("shapes")
    one = [{"name": "s", "points": [[0, 0], [10, 0], [0, 10]]}]
    two = [{"name": "s", "points": [[4, 0], [10, 8], [0, 10]]}]
    three = [{"name": "s", "points": [[8, 0], [10, 16], [0, 10]]}]
    value = param.coerce({"keys": [[1, one], [3, two], [5, three]], "interpolation": "smooth"})
    # smooth: Hermite with Catmull-Rom slopes (2 per frame at the middle key, flat at the ends)
    t = 0.5
    h = (2 * t**3 - 3 * t**2 + 1) * 0 + (-2 * t**3 + 3 * t**2) * 4 + (t**3 - t**2) * 2 * 2
    assert param.at(value, 2)[0]["points"][0][0] == pytest.approx(h)
    constant = param.coerce({"keys": [[1, one], [3, two]], "interpolation": "constant"})
    assert param.at(constant, 2.9)[0]["points"][1] == (10.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert param.at(value, 9)[0]["points"][1][:2] == (10.0, 16.0)


# --------------------------------------------------------------------------- Source


def test_source_passes_through_with_the_matte_in_output(backend, array_source):
    g = mb.Graph()
    g.settings.format = mb.Format(*SIZE)
    window = (2, 3, 20, 17)
    pixels = random_image(14, 18, seed=3)
    read = array_source(g, pixels, window=window, size=SIZE)
    polygon = [(10, 6), (26, 9), (18, 21)]
    node = g.add(
        "Roto",
        inputs={"Source": read},
        shapes=[{"points": [list(p) for p in polygon]}],
        output="G",
        premultiply=True,
    )
    out = fresh(g, node, backend)
    assert out.data_window == (2, 3, 26, 21)  # the Source's window and the shape's box
    box = out.data_window
    src = np.zeros((18, 24, 4))
    src[0:14, 0:18] = pixels
    matte = coverage(polygon, box)
    expected = src.copy()
    expected[..., 0] *= matte
    expected[..., 2] *= matte
    expected[..., 1] = matte
    np.testing.assert_allclose(out.pixels, expected, rtol=0, atol=TOLERANCE)


def test_other_layers_of_the_source_pass_through(backend, array_source):
    g = mb.Graph()
    g.settings.format = mb.Format(*SIZE)
    read = array_source(g, random_image(22, 28, seed=4), size=SIZE)
    layered = g.add("Shuffle", inputs={"Source": read}, mapping={"depth.Z": "R"})
    node = g.add(
        "Roto", inputs={"Source": layered}, shapes=[{"points": [[2, 2], [20, 4], [9, 18]]}]
    )
    out = fresh(g, node, backend, layers=None)
    source = fresh(g, layered, backend, layers=None)
    np.testing.assert_array_equal(out.channel("depth.Z"), source.channel("depth.Z"))
    np.testing.assert_array_equal(out.pixels[..., :3], source.pixels[..., :3])
    expected = coverage([(2, 2), (20, 4), (9, 18)], (0, 0) + SIZE)
    np.testing.assert_allclose(out.pixels[..., 3], expected, atol=TOLERANCE)


# --------------------------------------------------------------------------- proxy


def test_proxy_render_scales_points_tangents_and_feather(backend):
    points = [[6.0, 5.0, 0, 0, 8.0, -3.0], [40.0, 9.0, -4.0, -4.0, 0, 0], [22.0, 36.0, 0, 0, 0, 0]]
    out = render(
        backend, [{"points": points, "feather": [4, 0, 6]}], proxy=2, script_format=(50, 42)
    )
    assert out.proxy == 2 and (out.format.width, out.format.height) == (25, 21)
    half = [[v / 2 for v in p] for p in points]
    expected = render(backend, [{"points": half, "feather": [2, 0, 3]}], script_format=(25, 21))
    assert out.data_window == expected.data_window
    np.testing.assert_allclose(out.pixels, expected.pixels, rtol=0, atol=1e-6)


# --------------------------------------------------------------------------- errors, scripts


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        ([{"points": [[1, 2, 3]]}], "Roto1.shapes: shape 1: point 1: expected [x, y, in_dx"),
        (
            [{"name": "Bez", "points": [[1, "a"]]}],
            "Roto1.shapes: shape 1 ('Bez'): point 1: expected",
        ),
        (
            [{"points": [[0, 0], [1, 1]], "feather": [1, 2, 3]}],
            "'feather' must be one number or one per point (2)",
        ),
        ([{"points": [], "blend": "multiply"}], "'blend' must be one of over, add, subtract"),
        ([{"points": [], "opacity": 2}], "opacity must be between 0 and 1"),
        (
            [{"name": "a", "points": []}, {"name": "a", "points": []}],
            "shape 2: the name 'a' is used twice",
        ),
        ([{"points": [], "colour": 1}], "shape 1: unknown key 'colour'"),
        ({"points": []}, "one shape (put it in a list)"),
        ([{"points": [[1e30, 0]]}], "point 1: 1e+30 is beyond the limit of ±16777216"),
        ([{"points": [[0, 10**400]]}], "is beyond the limit of ±16777216"),
    ],
)
def test_bad_shapes_are_one_clear_error_naming_the_node(shapes, message):
    g = mb.Graph()
    with pytest.raises(GraphError) as error:
        g.add("Roto", shapes=shapes)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_bad_shapes_in_a_script_name_the_node(tmp_path):
    path = tmp_path / "bad.mbx"
    g = mb.Graph()
    g.add("Roto", shapes=[{"name": "S", "points": [[0, 0], [4, 0], [4, 4]]}])
    g.save(path)
    data = json.loads(path.read_text())
    data["nodes"]["Roto1"]["params"]["shapes"][0]["points"][1] = [4, None]
    path.write_text(json.dumps(data))
    with pytest.raises(ScriptError) as error:
        mb.load(path)
    assert "Roto1" in str(error.value) and "point 2" in str(error.value)


def test_script_round_trip_writes_only_what_differs(tmp_path):
    g = mb.Graph()
    shapes = [
        {"name": "A", "points": [[0, 0, 1, 1, -1, -1], [5, 0], [5, 5]], "feather": 2.5},
        {"name": "B", "points": [[1, 1], [3, 1], [2, 4]], "feather": [0, 1, 0], "invert": True},
    ]
    node = g.add("Roto", shapes={"keys": [[1, shapes], [4, shapes]], "interpolation": "smooth"})
    g.save(tmp_path / "roto.mbx")
    written = json.loads((tmp_path / "roto.mbx").read_text())["nodes"]["Roto1"]["params"]["shapes"]
    first = written["keys"][0][1]
    assert first[0] == {
        "name": "A",
        "points": [[0, 0, 1, 1, -1, -1], [5, 0, 0, 0, 0, 0], [5, 5, 0, 0, 0, 0]],
        "feather": 2.5,
    }
    assert first[1] == {
        "name": "B",
        "points": [[1, 1, 0, 0, 0, 0], [3, 1, 0, 0, 0, 0], [2, 4, 0, 0, 0, 0]],
        "feather": [0, 1, 0],
        "invert": True,
    }
    loaded = mb.load(tmp_path / "roto.mbx")
    assert loaded["Roto1"]["shapes"] == node["shapes"]


def test_empty_roto_is_an_empty_window(backend):
    out = render(backend, [])
    assert out.data_window == (0, 0, 0, 0)


def test_roto_wgsl_compiles():
    compile_wgsl(
        wgsl_source(Roto.__module__),
        "OUT[0] = roto_pixel(RotoTile(0, 0, 1, 1), 1, 2, 0u);",
        reads=("SRC",),
    )


def test_roto_is_registered_as_an_area_op_with_an_optional_source():
    spec = get_spec("Roto")
    assert spec.inputs == () and spec.optional_inputs == ("Source",)
    assert spec.param("shapes").type == "shapes" and spec.param("shapes").spatial
