"""Layers, channels, masks and disable through the engine, on every backend, against numpy
references on random multi-layer data (the renderer-style EXR is written with OIIO)."""

from __future__ import annotations

import numpy as np
import OpenImageIO as oiio
import pytest

import mattebox as mb
from mattebox.engine import render, script
from tests.conftest import random_image

H, W = 13, 19
#: A renderer's AOVs: name -> channel names (as Blender, Arnold or Karma write them).
AOVS = {
    "diffuse": ("diffuse.R", "diffuse.G", "diffuse.B"),
    "specular": ("specular.R", "specular.G", "specular.B"),
    "emission": ("emission.R", "emission.G", "emission.B"),
    "depth": ("depth.Z",),
    "N": ("N.X", "N.Y", "N.Z"),
    "motion": ("motion.u", "motion.v"),
}
TOL = {"rtol": 1e-5, "atol": 1e-6}


def renderer_exr(path, seed=0, window=None, size=None):
    """A multi-layer float EXR: beauty = diffuse + specular + emission, plus data layers.

    Returns the channels written, by name (float32 H x W each).
    """
    rng = np.random.default_rng(seed)
    channels = {}
    for layer, names in AOVS.items():
        for name in names:
            lo, hi = (1.0, 50.0) if layer == "depth" else (-0.2, 1.3)
            channels[name] = rng.uniform(lo, hi, (H, W)).astype(np.float32)
    alpha = rng.uniform(0.05, 1.0, (H, W)).astype(np.float32)
    for k, c in enumerate("RGB"):
        channels[c] = sum(channels[f"{layer}.{c}"] for layer in ("diffuse", "specular", "emission"))
    channels["A"] = alpha
    names = ["R", "G", "B", "A"] + [n for names in AOVS.values() for n in names]
    spec = oiio.ImageSpec(W, H, len(names), oiio.FLOAT)
    spec.channelnames = tuple(names)
    if window:
        spec.x, spec.y = window[:2]
    fw, fh = size or (spec.x + W, spec.y + H)
    spec.full_x, spec.full_y, spec.full_width, spec.full_height = 0, 0, fw, fh
    spec.attribute("compression", "zip")
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec), oiio.geterror()
    assert out.write_image(np.stack([channels[n] for n in names], axis=-1))
    out.close()
    return channels


@pytest.fixture
def shot(tmp_path):
    """A graph with a Read of a renderer-style EXR (colour space Raw) and its channels."""
    path = tmp_path / "beauty.exr"
    channels = renderer_exr(path)
    g = mb.Graph()
    g.settings.format = mb.Format(W, H)
    read = g.add("Read", file=str(path), colorspace="Raw")
    return g, read, channels


def plane(channels, names):
    return np.stack([channels[n] for n in names], axis=-1).astype(np.float64)


def test_read_exposes_every_layer(backend, shot):
    g, read, ch = shot
    image = g.render(read, backend=backend)
    assert image.channels[:4] == ("R", "G", "B", "A")
    assert set(image.channels) == set(ch)
    for layer, names in AOVS.items():
        np.testing.assert_array_equal(image.layer(layer), plane(ch, names))
    np.testing.assert_array_equal(image.channel("depth.Z"), ch["depth.Z"])
    np.testing.assert_array_equal(image.pixels, plane(ch, "RGBA"))
    assert image.layer("motion").shape == (H, W, 2)


def test_a_main_layer_render_reads_only_the_main_layer(shot, monkeypatch):
    g, read, _ = shot
    grade = g.add("Grade", inputs={"Source": read}, gain=1.5)
    asked = []
    real = render.io.read_layers
    monkeypatch.setattr(
        render.io,
        "read_layers",
        lambda path, layers, *a, **k: asked.append(list(layers)) or real(path, layers, *a, **k),
    )
    image = g.render(grade, backend="cpu", layers=())
    assert image.channels == ("R", "G", "B", "A") and asked == []
    image = g.render(grade, backend="cpu", layers=["depth"])
    assert asked == [["depth"]]  # the main layer is cached from the first render


def test_the_layers_of_a_file_are_decoded_in_one_read(shot, monkeypatch):
    g, read, ch = shot
    mask = g.add("Grade", inputs={"Source": read}, channels="depth", multiply=0.02)
    grade = g.add("Grade", inputs={"Source": read, "Mask": mask}, mask_channel="depth.Z")
    reads = []
    for name in ("read_layers", "read_image"):
        real = getattr(render.io, name)
        monkeypatch.setattr(
            render.io,
            name,
            lambda path, *a, _real=real, _name=name, **k: (
                reads.append(_name) or _real(path, *a, **k)
            ),
        )
    image = render.render(g, grade, backend="cpu", layers=["N", "motion"], use_cache=False)
    assert reads == ["read_layers"]
    np.testing.assert_array_equal(image.layer("N"), plane(ch, AOVS["N"]))


def test_untouched_layers_pass_through_by_reference(shot):
    g, read, _ = shot
    grade = g.add("Grade", inputs={"Source": read}, gain=2.0)
    blur = g.add("Blur", inputs={"Source": grade}, size=3.0)
    ctx = render.context_for(g, 1)
    evaluator = render.Evaluator(g, ctx, render.file_source_info)
    assert evaluator.eval(blur, "depth") is evaluator.eval(read, "depth")
    assert evaluator.eval(blur, "rgba").hash != evaluator.eval(read, "rgba").hash


def test_rebuild_the_beauty_from_light_layers(backend, shot):
    g, read, ch = shot
    diffuse = g.add(
        "Shuffle",
        inputs={"Source": read},
        mapping={"R": "diffuse.R", "G": "diffuse.G", "B": "diffuse.B"},
    )
    specular = g.add(
        "Shuffle",
        inputs={"Source": read},
        mapping={"R": "specular.R", "G": "specular.G", "B": "specular.B"},
    )
    emission = g.add(
        "Shuffle",
        inputs={"Source": read},
        mapping={"R": "emission.R", "G": "emission.G", "B": "emission.B"},
    )
    plus1 = g.add("Merge", inputs={"B": diffuse, "A": specular}, operation="plus", channels="rgb")
    plus2 = g.add("Merge", inputs={"B": plus1, "A": emission}, operation="plus", channels="rgb")
    image = g.render(plus2, backend=backend)
    np.testing.assert_allclose(image.pixels[..., :3], plane(ch, "RGB"), **TOL)
    np.testing.assert_array_equal(image.pixels[..., 3], ch["A"])  # rgb only: alpha is B's


@pytest.mark.parametrize("invert", [False, True])
def test_grade_one_layer_through_a_depth_mask(backend, shot, invert):
    g, read, ch = shot
    grade = g.add(
        "Grade",
        inputs={"Source": read, "Mask": read},
        channels="specular",
        gain=[1.7, 0.6, 1.2, 1.0],
        mask_channel="depth.Z",
        invert_mask=invert,
        mix=0.5,
        black_clamp=False,
    )
    image = g.render(grade, backend=backend)
    spec = plane(ch, AOVS["specular"])
    graded = spec * np.array([1.7, 0.6, 1.2])
    mask = ch["depth.Z"].astype(np.float64)[..., None]
    mask = 1.0 - mask if invert else mask
    np.testing.assert_allclose(
        image.layer("specular"), spec + (graded - spec) * 0.5 * mask, rtol=2e-5, atol=1e-5
    )
    np.testing.assert_array_equal(image.pixels, plane(ch, "RGBA"))  # rgba not selected
    np.testing.assert_array_equal(image.layer("diffuse"), plane(ch, AOVS["diffuse"]))


@pytest.mark.parametrize("mask_channel", ["A", "R", "depth.Z", "N.Y", "motion.v"])
def test_mask_channel_kinds_on_a_blur(backend, shot, array_source, mask_channel):
    g, read, ch = shot
    src = array_source(g, random_image(H, W, seed=4))
    blur = g.add("Blur", inputs={"Source": src, "Mask": read}, size=2.0, mask_channel=mask_channel)
    plain = g.add("Blur", inputs={"Source": src}, size=2.0)
    image = g.render(blur, backend=backend)
    blurred = g.render(plain, backend=backend)
    original = random_image(H, W, seed=4).astype(np.float64)
    # the blur grows the data window; the mask (and the input) are 0 outside theirs
    x0, y0 = -blurred.data_window[0], -blurred.data_window[1]
    mask = np.zeros(blurred.pixels.shape[:2])
    mask[y0 : y0 + H, x0 : x0 + W] = ch[mask_channel]
    base = np.zeros(blurred.pixels.shape)
    base[y0 : y0 + H, x0 : x0 + W] = original
    expected = base + (blurred.pixels - base) * mask[..., None]
    assert image.data_window == blurred.data_window
    np.testing.assert_allclose(image.pixels, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "channels,select",
    [
        ("rgb", (1, 1, 1, 0)),
        ("alpha", (0, 0, 0, 1)),
        (["R", "B"], (1, 0, 1, 0)),
        ("rgba", (1, 1, 1, 1)),
    ],
)
def test_channel_subsets_of_the_main_layer(backend, array_source, channels, select):
    pixels = random_image(H, W, seed=7)
    g = mb.Graph()
    invert = g.add("Invert", inputs={"Source": array_source(g, pixels)}, channels=channels)
    clamp = g.add(
        "Clamp", inputs={"Source": array_source(g, pixels)}, channels=channels, maximum=0.5
    )
    p = pixels.astype(np.float64)
    s = np.array(select, np.float64)
    got = g.render(invert, backend=backend).pixels
    np.testing.assert_allclose(got, p + (1.0 - p - p) * s, **TOL)
    got = g.render(clamp, backend=backend).pixels
    np.testing.assert_allclose(got, p + (np.clip(p, 0.0, 0.5) - p) * s, **TOL)


def test_disable_passes_the_main_input_through(backend, shot):
    g, read, ch = shot
    grade = g.add("Grade", inputs={"Source": read}, gain=3.0, channels="all", disable=True)
    blur = g.add("Blur", inputs={"Source": grade}, size=4.0, disable=True)
    merge = g.add("Merge", inputs={"B": blur, "A": grade}, disable=True)
    image = g.render(merge, backend=backend)
    np.testing.assert_array_equal(image.pixels, plane(ch, "RGBA"))
    np.testing.assert_array_equal(image.layer("N"), plane(ch, AOVS["N"]))
    ctx = render.context_for(g, 1)
    assert render.evaluate(g, merge, 1, ctx).hash == render.evaluate(g, read, 1, ctx).hash
    text = script.dumps(script.to_dict(g))
    assert '"disable": true' in text
    assert script.loads(text)["Grade1"]["disable"] is True


def test_unpremult_option_divides_before_and_multiplies_after(backend, array_source):
    pixels = random_image(H, W, seed=8)
    g = mb.Graph()
    sat = g.add(
        "Saturation", inputs={"Source": array_source(g, pixels)}, saturation=0.3, unpremult="alpha"
    )
    image = g.render(sat, backend=backend)
    p = pixels.astype(np.float64)
    a = p[..., 3:4]
    straight = p[..., :3] / a
    luma = straight @ np.array([0.2126, 0.7152, 0.0722])  # rec709, the default
    expected_straight = luma[..., None] + (straight - luma[..., None]) * 0.3
    np.testing.assert_allclose(image.pixels[..., :3], expected_straight * a, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(image.pixels[..., 3], pixels[..., 3])


def test_shuffle_between_two_inputs_and_new_layers(backend, shot, array_source):
    g, read, ch = shot
    other = random_image(H, W, seed=5)
    src2 = array_source(g, other)
    shuffle = g.add(
        "Shuffle",
        inputs={"Source": read, "Source2": src2},
        mapping={"A": "depth.Z", "mask.A": "2:G", "diffuse.G": "1", "N.X": "0", "G": "2:A"},
    )
    image = g.render(shuffle, backend=backend)
    assert "mask.A" in image.channels and image.layer("mask").shape == (H, W, 1)
    np.testing.assert_array_equal(image.channel("A"), ch["depth.Z"])
    np.testing.assert_array_equal(image.channel("G"), other[..., 3])
    np.testing.assert_array_equal(image.channel("mask.A"), other[..., 1])
    np.testing.assert_array_equal(image.channel("diffuse.G"), np.ones((H, W)))
    np.testing.assert_array_equal(image.channel("diffuse.R"), ch["diffuse.R"])
    np.testing.assert_array_equal(image.channel("N.X"), np.zeros((H, W)))
    np.testing.assert_array_equal(image.layer("motion"), plane(ch, AOVS["motion"]))


def test_copy_with_mask_remove_and_channel_merge(backend, shot, array_source):
    g, read, ch = shot
    other = random_image(H, W, seed=6)
    b = array_source(g, other)
    mask = array_source(g, random_image(H, W, seed=9))
    copy = g.add("Copy", inputs={"B": b, "A": read, "Mask": mask}, channels=["depth.Z", "A"])
    image = g.render(copy, backend=backend)
    m = random_image(H, W, seed=9)[..., 3].astype(np.float64)
    np.testing.assert_allclose(
        image.channel("A"), other[..., 3] + (ch["A"] - other[..., 3]) * m, **TOL
    )
    np.testing.assert_allclose(image.channel("depth.Z"), ch["depth.Z"] * m, **TOL)  # B had none: 0
    np.testing.assert_array_equal(image.channel("R"), other[..., 0])
    assert image.layers == ("rgba", "depth")

    keep = g.add(
        "Remove", inputs={"Source": read}, operation="keep", channels=["rgba", "N", "motion.v"]
    )
    image = g.render(keep, backend=backend)
    assert image.channels == ("R", "G", "B", "A", "N.X", "N.Y", "N.Z", "motion.v")
    np.testing.assert_array_equal(image.channel("motion.v"), ch["motion.v"])
    drop = g.add("Remove", inputs={"Source": read}, operation="remove", channels=["alpha", "depth"])
    image = g.render(drop, backend=backend)
    assert "depth.Z" not in image.channels
    np.testing.assert_array_equal(image.channel("A"), np.zeros((H, W)))

    cm = g.add(
        "ChannelMerge",
        inputs={"B": b, "A": read},
        a_channel="depth.Z",
        b_channel="R",
        operation="minus",
        output="G",
    )
    image = g.render(cm, backend=backend)
    np.testing.assert_allclose(image.channel("G"), ch["depth.Z"] - other[..., 0], **TOL)
    np.testing.assert_array_equal(image.channel("B"), other[..., 2])


@pytest.mark.parametrize("bbox", ["union", "intersection", "A", "B"])
def test_merge_bbox_and_also_merge(backend, tmp_path, bbox):
    ch_b = renderer_exr(tmp_path / "b.exr", seed=1, window=(0, 0), size=(W + 6, H + 4))
    ch_a = renderer_exr(tmp_path / "a.exr", seed=2, window=(6, 4), size=(W + 6, H + 4))
    g = mb.Graph()
    g.settings.format = mb.Format(W + 6, H + 4)
    b = g.add("Read", file=str(tmp_path / "b.exr"), colorspace="Raw")
    a = g.add("Read", file=str(tmp_path / "a.exr"), colorspace="Raw")
    merge = g.add(
        "Merge",
        inputs={"B": b, "A": a},
        operation="over",
        bbox=bbox,
        also_merge=["diffuse", "depth"],
    )
    image = g.render(merge, backend=backend)
    boxes = {
        "B": (0, 0, W, H),
        "A": (6, 4, W + 6, H + 4),
        "union": (0, 0, W + 6, H + 4),
        "intersection": (6, 4, W, H),
    }
    assert image.data_window == boxes[bbox]

    def on_canvas(values, at):
        out = np.zeros((H + 4, W + 6) + values.shape[2:])
        out[at[1] : at[1] + H, at[0] : at[0] + W] = values
        return out

    def merged(names):
        fb = on_canvas(plane(ch_b, names), (0, 0))
        fa = on_canvas(plane(ch_a, names), (6, 4))
        alpha_a = on_canvas(ch_a["A"].astype(np.float64), (6, 4))[..., None]
        return fa + fb * (1.0 - alpha_a)

    x0, y0, x1, y1 = boxes[bbox]
    for layer in ("diffuse", "depth"):
        np.testing.assert_allclose(image.layer(layer), merged(AOVS[layer])[y0:y1, x0:x1], **TOL)
    np.testing.assert_allclose(image.pixels, merged("RGBA")[y0:y1, x0:x1], **TOL)
    specular_b = on_canvas(plane(ch_b, AOVS["specular"]), (0, 0))
    np.testing.assert_array_equal(image.layer("specular"), specular_b[y0:y1, x0:x1])  # B's


@pytest.mark.parametrize("multipart", [False, True])
def test_write_round_trip_keeps_every_layer_bit_for_bit(backend, shot, tmp_path, multipart):
    g, read, ch = shot
    out = tmp_path / "out.exr"
    write = g.add(
        "Write",
        inputs={"Source": read},
        file=str(out),
        channels="all",
        datatype="float",
        colorspace="Raw",
        multipart=multipart,
    )
    g.execute([write], frames=[1], backend=backend)
    got = {}
    inp = oiio.ImageInput.open(str(out))
    subimage = 0
    while inp.seek_subimage(subimage, 0):
        spec = inp.spec()
        pixels = inp.read_image(subimage, 0, 0, spec.nchannels, "float")
        names = list(spec.channelnames)
        part = spec.get_string_attribute("name")
        for k, name in enumerate(names):
            full = name if "." in name or not part or part == "rgba" else f"{part}.{name}"
            got[full] = pixels[..., k]
        subimage += 1
    inp.close()
    assert (subimage > 1) == multipart
    assert set(got) == set(ch)
    for name, values in ch.items():
        np.testing.assert_array_equal(got[name], values, err_msg=name)


def test_unknown_channel_names_are_clear_errors(shot):
    g, read, _ = shot
    grade = g.add("Grade", inputs={"Source": read}, channels="specularr")
    with pytest.raises(mb.RenderError, match=r"Grade1: channels: 'specularr' is not a channel"):
        g.render(grade, backend="cpu")
    grade["channels"] = "rgba"
    grade.set_input("Mask", read)
    grade["mask_channel"] = "depth.W"
    with pytest.raises(
        mb.RenderError, match=r"Grade1: mask_channel: 'depth.W' is not a channel of the Mask"
    ):
        g.render(grade, backend="cpu")


def test_a_format_1_script_loads_and_renders_as_before():
    """Saved by the code before layers (format 1, Shuffle v1, Invert's enum channels);
    the pixels were rendered by that code too."""
    from pathlib import Path

    fixtures = Path(__file__).parent / "fixtures"
    g = mb.load(fixtures / "format1_channels.mbx")
    assert dict(g["Shuffle1"]["mapping"]) == {"R": "G", "B": "1", "A": "R"}
    assert g["Shuffle1"].version == 2 and g["Invert1"]["channels"] == "alpha"
    image = g.render(g["Merge1"], backend="cpu")
    before = np.load(fixtures / "format1_channels.npy")
    np.testing.assert_allclose(image.pixels, before, rtol=0, atol=1e-6)  # fused differently
    saved = script.to_dict(g)
    assert saved["mattebox"]["format"] == 2
    assert saved["nodes"]["Shuffle1"]["params"] == {"mapping": {"R": "G", "B": "1", "A": "R"}}


def test_a_disabled_write_is_not_rendered(tmp_path, array_source):
    g = mb.Graph()
    src = array_source(g, random_image(H, W, seed=3))
    on = g.add("Write", inputs={"Source": src}, file=str(tmp_path / "on.exr"))
    off = g.add("Write", inputs={"Source": src}, file=str(tmp_path / "off.exr"), disable=True)
    assert g.execute([on, off], frames=[1], backend="cpu") == [str(tmp_path / "on.exr")]
    assert not (tmp_path / "off.exr").exists()
    with pytest.raises(mb.RenderError, match="Write2: disabled"):
        g.execute([off], frames=[1], backend="cpu")


@pytest.mark.parametrize("node_type", ["Premult", "Unpremult"])
def test_premult_of_other_layers_uses_the_main_alpha(backend, shot, node_type):
    g, read, ch = shot
    node = g.add(node_type, inputs={"Source": read}, channels=["diffuse", "depth"])
    image = g.render(node, backend=backend)
    alpha = ch["A"].astype(np.float64)
    for layer in ("diffuse", "depth"):
        values = plane(ch, AOVS[layer])
        expected = (
            values * alpha[..., None] if node_type == "Premult" else values / alpha[..., None]
        )
        np.testing.assert_allclose(image.layer(layer), expected, rtol=2e-6, atol=1e-6)
    np.testing.assert_array_equal(image.pixels, plane(ch, "RGBA"))  # rgba not selected
    np.testing.assert_array_equal(image.layer("N"), plane(ch, AOVS["N"]))


def test_layers_at_proxy_scale_and_missing_frames(backend, shot, tmp_path):
    from mattebox.engine.image import downscale
    from mattebox.nodes.spec import Window

    g, read, ch = shot
    grade = g.add("Grade", inputs={"Source": read}, channels="depth", multiply=2.0)
    image = g.render(grade, backend=backend, proxy=2)
    assert image.proxy == 2 and "depth.Z" in image.channels
    depth = np.zeros((H, W, 4), np.float32)
    depth[..., 0] = ch["depth.Z"] * 2.0
    expected, window = downscale(depth, Window(0, 0, W, H), 2)
    assert image.data_window == window.as_tuple()
    np.testing.assert_allclose(image.channel("depth.Z"), expected[..., 0], rtol=1e-6)

    missing = g.add("Read", file=str(tmp_path / "none.####.exr"), missing_frames="black")
    blur = g.add("Blur", inputs={"Source": missing}, channels="all", size=2.0)
    image = g.render(blur, backend=backend)
    assert image.channels == ("R", "G", "B", "A") and image.pixels.size == 0


def test_a_masked_point_op_is_one_kernel_also_while_it_is_edited(shot):
    g, read, _ = shot
    grade = g.add("Grade", inputs={"Source": read, "Mask": read}, mask_channel="depth.Z")
    grade["gain"] = 1.3  # now an edited ("hot") node: its inputs are materialised
    plan = render.plan(g, grade)
    fused = [p for p in plan.passes if p.kind == "fused"]
    assert len(fused) == 1
    assert [n.spec.type_name for n in fused[0].nodes] == ["Grade", "MaskMix"]
