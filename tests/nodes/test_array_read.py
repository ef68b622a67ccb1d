"""Zero-copy interop: ``mb.Image`` as a numpy / DLPack array, and the ArrayRead source.

References are numpy written from the definitions: an image's array is its ``pixels``
(the same memory); ArrayRead's output is the array placed at ``x``, ``y`` in its format
with channels mapped as a Read maps a file's (grey, grey+alpha, RGB, RGBA), transparent
black elsewhere, and at proxy N the mean of each N×N block aligned to the origin.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import mattebox as mb
from mattebox.engine import render
from mattebox.engine.backends.cpu.backend import CpuBackend
from mattebox.nodes.source.array_read import ArrayRead
from mattebox.nodes.spec import Context, Format, Window
from tests.conftest import placed, random_image


def rendered_image(shape=(5, 7)):
    g = mb.Graph()
    node = g.add("ArrayRead", array=random_image(*shape, seed=3))
    return g.render(node, backend="cpu")


def as_rgba(pixels: np.ndarray) -> np.ndarray:
    """The reference channel mapping, channel by channel, in float64."""
    pixels = pixels.astype(np.float64)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    count = pixels.shape[2]
    out = np.ones((*pixels.shape[:2], 4))
    if count >= 3:
        out[..., :3] = pixels[..., :3]
    else:
        for k in range(3):
            out[..., k] = pixels[..., 0]
    if count in (2, 4):
        out[..., 3] = pixels[..., count - 1]
    return out


def block_mean(pixels: np.ndarray, window, proxy: int) -> tuple[np.ndarray, tuple]:
    """Mean of the N×N blocks aligned to the origin that meet ``window`` (black outside),
    by explicit loops over the proxy pixels."""
    x0, y0, x1, y1 = window
    px0, py0 = x0 // proxy, y0 // proxy
    px1, py1 = -(-x1 // proxy), -(-y1 // proxy)
    out = np.zeros((py1 - py0, px1 - px0, 4))
    for j in range(py0, py1):
        for i in range(px0, px1):
            total = np.zeros(4)
            for y in range(j * proxy, (j + 1) * proxy):
                for x in range(i * proxy, (i + 1) * proxy):
                    if x0 <= x < x1 and y0 <= y < y1:
                        total += pixels[y - y0, x - x0]
            out[j - py0, i - px0] = total / proxy**2
    return out, (px0, py0, px1, py1)


# -- mb.Image as an array ----------------------------------------------------------------


def test_np_asarray_of_an_image_is_its_pixels_memory():
    image = rendered_image()
    viewed = np.asarray(image)
    assert viewed is image.pixels
    assert np.shares_memory(viewed, image.pixels)
    viewed[1, 2, 0] = 42.0  # writing through the view changes the image
    assert image.pixels[1, 2, 0] == 42.0
    assert np.array(image, copy=False) is image.pixels


def test_np_asarray_with_another_dtype_or_copy_copies_and_copy_false_refuses():
    image = rendered_image()
    as64 = np.asarray(image, dtype=np.float64)
    assert as64.dtype == np.float64 and not np.shares_memory(as64, image.pixels)
    np.testing.assert_array_equal(as64, image.pixels.astype(np.float64))
    copied = np.array(image, copy=True)
    assert not np.shares_memory(copied, image.pixels)
    np.testing.assert_array_equal(copied, image.pixels)
    with pytest.raises(ValueError, match="without a copy"):
        np.asarray(image, dtype=np.float64, copy=False)


def test_dlpack_of_an_image_shares_its_memory():
    image = rendered_image()
    assert image.__dlpack_device__() == (1, 0)  # kDLCPU
    viewed = np.from_dlpack(image)
    assert np.shares_memory(viewed, image.pixels)
    assert viewed.__array_interface__["data"][0] == image.pixels.__array_interface__["data"][0]
    assert viewed.shape == image.pixels.shape and viewed.dtype == np.float32
    image.pixels[0, 0, 1] = -7.0
    assert viewed[0, 0, 1] == -7.0


def test_torch_from_dlpack_of_an_image_shares_its_memory():
    torch = pytest.importorskip("torch", reason="torch is not installed in this environment")
    image = rendered_image()
    tensor = torch.from_dlpack(image)
    assert tensor.data_ptr() == image.pixels.ctypes.data
    assert tuple(tensor.shape) == image.pixels.shape and tensor.dtype == torch.float32
    tensor[2, 3, 1] = 5.0
    assert image.pixels[2, 3, 1] == 5.0


# -- ArrayRead: memory ---------------------------------------------------------------------


def test_arrayread_hands_the_engine_the_array_itself(monkeypatch):
    """The CPU backend receives the user's float32 RGBA memory (no copy) and the render
    leaves the array as it was."""
    uploaded = []
    upload = CpuBackend.upload

    def spy(self, pixels):
        uploaded.append(pixels)
        return upload(self, pixels)

    monkeypatch.setattr(CpuBackend, "upload", spy)
    pixels = random_image(6, 9, seed=11, lo=0.05)
    before = pixels.copy()
    g = mb.Graph()
    node = g.add("ArrayRead", array=pixels)
    grade = g.add("Grade", inputs={"Source": node}, gain=1.7)
    out = render.render(g, grade, backend="cpu", use_cache=False)
    assert len(uploaded) == 1 and uploaded[0] is pixels
    np.testing.assert_array_equal(pixels, before)
    expected = before.astype(np.float64)
    expected[..., :3] *= 1.7
    np.testing.assert_allclose(out.pixels, expected, rtol=1e-6)
    assert not np.shares_memory(out.pixels, pixels)  # the result is the engine's


def test_generate_views_whole_rows_and_copies_only_parts():
    pixels = random_image(8, 5, seed=2)
    values = ArrayRead.values_at(
        ArrayRead.defaults()
        | {"array": mb.Graph().add("ArrayRead", array=pixels)["array"], "x": 3, "y": -2},
        1,
    )
    ctx = Context(frame=1, script_format=Format(9, 9))
    whole = ArrayRead.generate(values, Window(3, -2, 8, 6), ctx)
    assert whole is pixels
    rows = ArrayRead.generate(values, Window(3, 0, 8, 4), ctx)
    assert np.shares_memory(rows, pixels) and rows.flags.c_contiguous
    np.testing.assert_array_equal(rows, pixels[2:6])
    part = ArrayRead.generate(values, Window(2, 0, 6, 3), ctx)
    assert not np.shares_memory(part, pixels)
    expected = placed(pixels, (3, -2, 8, 6), (2, -2, 8, 6))[2:5, 0:4]
    np.testing.assert_array_equal(part, expected)


def test_arrayread_of_an_image_through_dlpack_shares_its_memory(monkeypatch):
    """An object that is only a DLPack producer (an mb.Image here, as a torch tensor is)
    is viewed, not copied."""
    image = rendered_image((4, 6))
    uploaded = []
    upload = CpuBackend.upload
    monkeypatch.setattr(CpuBackend, "upload", lambda self, p: uploaded.append(p) or upload(self, p))
    g = mb.Graph()
    node = g.add("ArrayRead", array=image)
    render.render(g, g.add("Invert", inputs={"Source": node}), backend="cpu", use_cache=False)
    assert np.shares_memory(uploaded[0], image.pixels)


def test_arrayread_of_a_torch_tensor_shares_its_memory(backend, monkeypatch):
    torch = pytest.importorskip("torch", reason="torch is not installed in this environment")
    pixels = random_image(5, 6, seed=4)
    tensor = torch.from_numpy(pixels.copy())
    g = mb.Graph()
    node = g.add("ArrayRead", array=tensor)
    frame = node.spec.values_at(node.values, 1)["array"]
    assert frame.pixels.ctypes.data == tensor.data_ptr()
    out = g.render(node, backend=backend)
    np.testing.assert_array_equal(out.pixels, pixels)


def test_values_are_not_deep_copied_with_the_node():
    pixels = random_image(4, 4, seed=5)
    node = mb.Graph().add("ArrayRead", array=pixels)
    values = copy.deepcopy(node.values)
    assert values["array"] is node.values["array"] and values["array"].source is pixels


# -- ArrayRead: pixels on every backend ----------------------------------------------------


@pytest.mark.parametrize(
    ("channels", "dtype"),
    [(None, np.float32), (1, np.float32), (2, np.float64), (3, np.float16), (4, np.float32)],
)
def test_arrayread_pixels_channels_and_dtypes(backend, channels, dtype):
    rng = np.random.default_rng(channels or 0)
    shape = (7, 11) if channels is None else (7, 11, channels)
    pixels = rng.uniform(-0.2, 1.3, shape).astype(dtype)
    g = mb.Graph()
    node = g.add("ArrayRead", array=pixels, x=-2, y=3, width=10, height=12, pixel_aspect=2.0)
    out = g.render(node, backend=backend)
    assert out.format == mb.Format(10, 12, 2.0)
    assert out.data_window == (-2, 3, 9, 10)
    expected = as_rgba(pixels.astype(np.float32))
    np.testing.assert_array_equal(out.pixels, expected.astype(np.float32))


def test_arrayread_region_outside_the_array_is_black(backend):
    pixels = random_image(6, 8, seed=6)
    g = mb.Graph()
    node = g.add("ArrayRead", array=pixels, x=4, y=2)
    assert (g.render(node, backend="cpu").format.width, node["width"]) == (12, 0)
    box = (1, 0, 10, 5)
    out = g.render(node, backend=backend, region=box)
    expected = placed(pixels, (4, 2, 12, 8), (0, 0, 12, 8))[0:5, 1:10]
    np.testing.assert_array_equal(out.crop(box), expected)


def test_arrayread_feeds_a_blur_on_every_backend(backend):
    """A tile that reaches past the array (the Blur's halo) gets black around it."""
    pixels = random_image(9, 12, seed=7)
    g = mb.Graph()
    node = g.add("ArrayRead", array=pixels, x=3, y=1)
    blur = g.add("Blur", inputs={"Source": node}, size=2.5)
    through_read = mb.Graph()
    read_like = through_read.add("ArrayRead", array=pixels.copy(), x=3, y=1)
    crop = through_read.add("Crop", inputs={"Source": read_like}, box=(0, 0, 15, 10))
    reference = through_read.add("Blur", inputs={"Source": crop}, size=2.5)
    got = g.render(blur, backend=backend)
    want = through_read.render(reference, backend="cpu")
    assert got.data_window == want.data_window
    np.testing.assert_allclose(got.pixels, want.pixels, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("proxy", [2, 3])
def test_arrayread_proxy_is_the_block_mean(backend, proxy):
    pixels = random_image(10, 13, seed=8)
    g = mb.Graph()
    node = g.add("ArrayRead", array=pixels, x=1, y=2, width=16, height=14)
    out = g.render(node, backend=backend, proxy=proxy)
    expected, window = block_mean(pixels.astype(np.float64), (1, 2, 14, 12), proxy)
    assert out.proxy == proxy and out.data_window == window
    assert out.format == mb.Format(-(-16 // proxy), -(-14 // proxy))
    np.testing.assert_allclose(out.pixels, expected, rtol=1e-6, atol=1e-6)


# -- ArrayRead: per-frame callables and the hash -------------------------------------------


def test_a_callable_gives_each_frame_once_per_render(backend):
    calls = []

    def frames(frame):
        calls.append(frame)
        return random_image(4, 5, seed=frame, lo=0.05)

    g = mb.Graph()
    node = g.add("ArrayRead", array=frames)
    grade = g.add("Grade", inputs={"Source": node}, gain=1.5)
    for frame in (1, 3):
        out = g.render(grade, frame=frame, backend=backend)
        expected = random_image(4, 5, seed=frame, lo=0.05).astype(np.float64)
        expected[..., :3] *= 1.5
        np.testing.assert_allclose(out.pixels, expected, rtol=1e-6)
    assert calls == [1, 3] and all(type(f) is int for f in calls)
    node["array"] = lambda frame: np.full((2, 2), frame, np.float32)  # between frames
    np.testing.assert_array_equal(g.render(node, frame=2.5, backend=backend).pixels[..., 0], 2.5)


def test_hash_follows_assignment_version_and_frame():
    pixels = random_image(4, 4, seed=9)
    g = mb.Graph()
    node = g.add("ArrayRead", array=pixels)

    def digest(frame=1):
        return render.evaluate(g, node, frame).hash

    first = digest()
    assert digest() == first and digest(2) == first  # a still array: every frame alike
    node["array"] = pixels  # the same object again: counts as new contents
    second = digest()
    assert second != first
    node["version"] = 1
    assert digest() not in (first, second)
    node["array"] = lambda frame: pixels
    assert digest(1) != digest(2)


def test_editing_in_place_shows_after_raising_version(backend):
    pixels = random_image(5, 5, seed=10, lo=0.05)
    g = mb.Graph()
    node = g.add("ArrayRead", array=pixels)
    grade = g.add("Grade", inputs={"Source": node}, gain=2.0)
    before = g.render(grade, backend=backend).pixels.copy()
    pixels[..., :3] += 0.25
    node["version"] += 1
    after = g.render(grade, backend=backend).pixels
    np.testing.assert_allclose(after[..., :3] - before[..., :3], 0.5, rtol=0, atol=1e-5)


# -- ArrayRead: errors ---------------------------------------------------------------------


class OnTheGpu:
    """A DLPack producer that says it lives on CUDA device 0."""

    def __dlpack__(self, **kwargs):
        raise AssertionError("never asked for: the device is checked first")

    def __dlpack_device__(self):
        return (2, 0)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.zeros((4, 4, 5), np.float32), "got shape (4, 4, 5)"),
        (np.zeros((2, 4, 4, 4), np.float32), "got shape (2, 4, 4, 4)"),
        (np.zeros(7, np.float32), "got shape (7,)"),
        (np.zeros((0, 4, 4), np.float32), "empty"),
        (np.zeros((4, 4, 4), np.uint8), "dtype uint8 is not a float type"),
        (np.zeros((4, 4, 4), np.complex64), "dtype complex64 is not a float type"),
        (OnTheGpu(), "lives on cuda:0"),
        ("plate.exr", "expected an array"),
        ({"keys": [[1, 0.0]]}, "cannot be animated"),
    ],
)
def test_bad_arrays_are_refused_when_set(value, message):
    g = mb.Graph()
    with pytest.raises(mb.GraphError) as caught:
        g.add("ArrayRead", array=value)
    text = str(caught.value)
    assert text.startswith("ArrayRead1.array: ") and message in text and "\n" not in text
    assert "ArrayRead1" not in g


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        (lambda f: np.zeros((3, 3, 6), np.float32), "at frame 2, the callable returned"),
        (lambda f: np.zeros((3, 3), np.int16), "dtype int16"),
        (lambda f: None, "returned None at frame 2"),
        (lambda f: [][f], "the callable failed at frame 2: IndexError"),
    ],
)
def test_bad_callables_are_one_line_render_errors(backend, returned, message):
    g = mb.Graph()
    node = g.add("ArrayRead", array=returned)
    with pytest.raises(mb.RenderError) as caught:
        g.render(node, frame=2, backend=backend)
    text = str(caught.value)
    assert text.startswith("ArrayRead1: array: ") and message in text and "\n" not in text


def test_an_arrayread_without_an_array_says_so():
    g = mb.Graph()
    node = g.add("ArrayRead")
    with pytest.raises(mb.RenderError, match=r"^ArrayRead1: array: nothing given"):
        g.render(node, backend="cpu")


def test_saving_or_copying_an_arrayread_with_an_array_is_refused(tmp_path):
    g = mb.Graph()
    node = g.add("ArrayRead", array=random_image(3, 3, seed=1), x=2)
    path = tmp_path / "comp.mbx"
    with pytest.raises(mb.ScriptError) as caught:
        g.save(path)
    text = str(caught.value)
    assert text.startswith("ArrayRead1.array: holds <array 3×3×4 ndarray> from Python")
    assert "cannot store" in text and "\n" not in text
    assert not path.exists() and not list(tmp_path.iterdir())  # nothing half-written
    with pytest.raises(mb.ScriptError, match="ArrayRead1.array"):
        g.to_dict(["ArrayRead1"])  # what copy and paste, groups and undo use
    node["array"] = None
    g.save(path)
    loaded = mb.load(path)
    assert loaded["ArrayRead1"]["x"] == 2 and loaded["ArrayRead1"]["array"] is None
