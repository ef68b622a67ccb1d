"""Text, through the engine on every backend, against OpenImageIO's
``ImageBufAlgo.render_text`` drawing the same text straight into an RGBA buffer of the
format (the independent reference), plus its cache and its errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest

import mattebox as mb
from mattebox.engine.render import RenderError
from mattebox.nodes.source import text as text_module

TOLERANCE = 1e-6


def reference_text(width, height, message, size, position, color, font="", justify="left"):
    """``render_text`` of ``color`` on transparent black over the whole format, the pen at
    ``position`` rounded to whole pixels."""
    buf = oiio.ImageBuf(oiio.ImageSpec(width, height, 4, oiio.FLOAT))
    x, y = (int(np.floor(v + 0.5)) for v in position)
    drawn = oiio.ImageBufAlgo.render_text(
        buf, x, y, message, size, font, tuple(color), alignx=justify
    )
    assert drawn, buf.geterror()
    return buf.get_pixels(oiio.FLOAT).astype(np.float64)


def render(backend, script_format=(61, 37), region=None, proxy=1, **params):
    g = mb.Graph()
    g.settings.format = mb.Format(*script_format)
    node = g.add("Text", **params)
    return g.render(node, frame=1, backend=backend, region=region, proxy=proxy)


def full_frame(out, width, height):
    """The render's pixels over the whole format (black outside its data window)."""
    return out.crop((0, 0, width, height))


@pytest.mark.parametrize(
    ("message", "justify", "font"),
    [("Hig\nwQ", "left", ""), ("Mattebox", "center", "DroidSerif-Bold"), ("right", "right", "")],
)
def test_text_matches_render_text(backend, message, justify, font):
    params = {
        "message": message,
        "size": 15,
        "position": (30.4, 17.6),  # pen at (30, 18)
        "color": (0.9, 0.45, 0.2, 0.8),
        "justify": justify,
        "font": font,
    }
    out = render(backend, **params)
    expected = reference_text(61, 37, message, 15, (30.4, 17.6), params["color"], font, justify)
    assert expected[..., 3].max() > 0.5
    np.testing.assert_allclose(full_frame(out, 61, 37), expected, rtol=0, atol=TOLERANCE)
    # the data window is the box of the drawn pixels, cut by the format
    ys, xs = np.nonzero(expected[..., 3])
    assert out.data_window == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)


def test_text_is_cut_by_the_format_and_a_region_off_the_origin(backend):
    params = {"message": "Edge gj", "size": 18, "position": (-6.0, 12.0), "color": 1.2}
    region = (-5, 3, 40, 30)
    out = render(backend, script_format=(33, 20), region=region, **params)
    assert out.data_window[0] == 0 and out.data_window[1] >= 0  # inside the format
    expected = reference_text(33, 20, "Edge gj", 18, (-6.0, 12.0), (1.2,) * 4)
    canvas = np.zeros((27, 45, 4))
    canvas[0:17, 5:38] = expected[3:20, 0:33]  # the format's part of the region
    np.testing.assert_allclose(out.crop(region), canvas, rtol=0, atol=TOLERANCE)


def test_text_proxy_render_halves_size_and_position(backend):
    params = {"message": "Proxy", "size": 23, "position": (9.0, 31.0), "color": 0.7}
    out = render(backend, script_format=(80, 44), proxy=2, **params)
    assert (out.format.width, out.format.height) == (40, 22)
    expected = reference_text(40, 22, "Proxy", 12, (4.5, 15.5), (0.7,) * 4)  # size rounds up
    np.testing.assert_allclose(full_frame(out, 40, 22), expected, rtol=0, atol=TOLERANCE)


def test_empty_text_has_an_empty_window():
    out = render("cpu", message="")
    assert out.pixels.size == 0


def test_each_text_is_drawn_once(monkeypatch):
    calls = []
    draw = oiio.ImageBufAlgo.render_text

    def counting(*args, **kwargs):
        calls.append(args[3])
        return draw(*args, **kwargs)

    monkeypatch.setattr(oiio.ImageBufAlgo, "render_text", counting)
    text_module.coverage.cache_clear()
    text = {"message": "cached once", "size": 12, "script_format": (90, 37)}
    first = render("cpu", position=(3.0, 20.0), color=0.5, **text)
    moved = render("cpu", position=(5.0, 22.0), color=0.9, **text)
    assert calls == ["cached once"]
    np.testing.assert_allclose(moved.pixels / 0.9, first.pixels / 0.5, atol=1e-6)
    assert moved.data_window == tuple(v + 2 for v in first.data_window)
    render("cpu", **(text | {"size": 13}))
    assert calls == ["cached once", "cached once"]  # another size is another text


def test_a_missing_font_is_an_error_naming_it_and_the_node(backend):
    with pytest.raises(RenderError, match=r"^Text1: font 'No Such Font' not found$"):
        render(backend, font="No Such Font")


def test_a_font_file_relative_to_the_script(tmp_path):
    bundled = oiio.get_string_attribute("font_file_list").split(";")
    serif = next(p for p in bundled if p.endswith("DroidSerif.ttf"))
    (tmp_path / "fonts").mkdir()
    (tmp_path / "fonts" / "mine.ttf").write_bytes(Path(serif).read_bytes())
    g = mb.Graph()
    g.settings.format = mb.Format(61, 37)
    node = g.add("Text", message="Serif", size=16, position=(4.0, 20.0), font="fonts/mine.ttf")
    g.save(tmp_path / "comp.mbx")
    out = mb.load(tmp_path / "comp.mbx").render("Text1", frame=1, backend="cpu")
    expected = reference_text(61, 37, "Serif", 16, (4.0, 20.0), (1.0,) * 4, serif)
    np.testing.assert_allclose(full_frame(out, 61, 37), expected, rtol=0, atol=TOLERANCE)
    assert node["font"] == "fonts/mine.ttf"
