"""Keyframed parameter values: ``constant``, ``linear`` and ``smooth`` segments, for the
whole curve or per key, checked against scipy's cubic Hermite spline with Catmull-Rom
slopes (flat at the ends), through scripts and through a render."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.interpolate import CubicHermiteSpline

import mattebox as mb
from mattebox.engine import script
from mattebox.nodes import spec

KINDS = ("constant", "linear", "smooth")

PARAMS = {
    "float": spec.Float("amount", 0.0, "A float."),
    "rgba": spec.RGBA("color", 0.0, "An RGBA colour."),
    "vec2": spec.Vec2("center", (0.0, 0.0), "A position."),
    "int": spec.Int("count", 0, "An int."),
}


def random_keys(kind: str, seed: int, n: int = 7) -> list[list]:
    """``n`` keys at distinct whole frames, written out of order, with random values."""
    rng = np.random.default_rng(seed)
    frames = rng.choice(np.arange(-20, 60), n, replace=False)
    size = {"float": 1, "int": 1, "rgba": 4, "vec2": 2}[kind]
    values = rng.uniform(-3.0, 5.0, (n, size))
    if kind == "int":
        values = np.round(values * 10)
    keys = []
    for frame, value in zip(frames, values):
        written = float(value[0]) if size == 1 else [float(v) for v in value]
        keys.append([int(frame), int(written) if kind == "int" else written])
    return keys


def as_arrays(keys: list[list]) -> tuple[np.ndarray, np.ndarray]:
    """Frames (n,) and values (n, components), sorted by frame."""
    keys = sorted(keys, key=lambda k: k[0])
    frames = np.array([k[0] for k in keys], np.float64)
    values = np.array([np.atleast_1d(k[1]) for k in keys], np.float64)
    return frames, values


def reference(keys: list[list], curve: str, frames_at: np.ndarray) -> np.ndarray:
    """Values (m, components) at ``frames_at``, segment by segment, in float64: a constant
    segment holds its first value, a linear one is np.interp, a smooth one is
    CubicHermiteSpline with slope (v[i+1] - v[i-1]) / (f[i+1] - f[i-1]), 0 at the ends."""
    kinds = {k[0]: (k[2] if len(k) == 3 else curve) for k in keys}
    f, v = as_arrays(keys)
    slopes = np.zeros_like(v)
    slopes[1:-1] = (v[2:] - v[:-2]) / (f[2:] - f[:-2])[:, None]
    spline = CubicHermiteSpline(f, v, slopes, axis=0)
    out = np.empty((len(frames_at), v.shape[1]))
    for row, frame in enumerate(np.clip(frames_at, f[0], f[-1])):
        i = min(np.searchsorted(f, frame, side="right") - 1, len(f) - 2)
        kind = kinds[f[i]]
        if frame == f[i] or kind == "constant":
            out[row] = v[i] if frame < f[i + 1] else v[i + 1]
        elif kind == "linear":
            out[row] = [np.interp(frame, f[i : i + 2], v[i : i + 2, c]) for c in range(v.shape[1])]
        else:
            out[row] = spline(frame)
    return out


def evaluated(param: spec.Param, value, frames_at) -> np.ndarray:
    return np.array([np.atleast_1d(param.at(value, float(f))) for f in frames_at], np.float64)


def sample_frames(keys: list[list]) -> np.ndarray:
    """Frames before, between (fractional) and after the keys, and on every key."""
    f, _ = as_arrays(keys)
    inside = np.linspace(f[0], f[-1], 97)
    return np.concatenate([[f[0] - 5.5, f[0] - 1], inside, f, [f[-1] + 0.25, f[-1] + 30]])


@pytest.mark.parametrize("kind", list(PARAMS))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_smooth_matches_the_cubic_hermite_reference(kind, seed):
    param = PARAMS[kind]
    keys = random_keys(kind, seed)
    value = param.coerce({"keys": keys, "interpolation": "smooth"})
    frames_at = sample_frames(keys)
    got = evaluated(param, value, frames_at)
    expected = reference(keys, "smooth", frames_at)
    if kind == "int":
        assert np.array_equal(got, np.round(expected))
        assert all(isinstance(param.at(value, float(f)), int) for f in frames_at)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", list(PARAMS))
@pytest.mark.parametrize("seed", [4, 5])
def test_per_key_interpolation_mixes_the_three_kinds(kind, seed):
    param = PARAMS[kind]
    keys = random_keys(kind, seed, n=9)
    rng = np.random.default_rng(seed)
    curve = str(rng.choice(KINDS))
    for key in keys:
        if rng.uniform() < 0.7:
            key.append(str(rng.choice(KINDS)))
    value = param.coerce({"keys": keys, "interpolation": curve})
    frames_at = sample_frames(keys)
    got = evaluated(param, value, frames_at)
    expected = reference(keys, curve, frames_at)
    if kind == "int":
        assert np.array_equal(got, np.round(expected))
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_smooth_between_two_keys_is_smoothstep_and_the_ends_hold():
    param = PARAMS["float"]
    value = param.coerce({"keys": [[10, 1.0], [0, 0.0]], "interpolation": "smooth"})
    for frame in (0.0, 2.5, 5.0, 7.5, 10.0):
        t = frame / 10
        assert param.at(value, frame) == pytest.approx(3 * t * t - 2 * t * t * t, abs=1e-15)
    assert param.at(value, -100.0) == 0.0
    assert param.at(value, 1e6) == 1.0


def test_the_segment_leaving_a_key_follows_that_key():
    param = PARAMS["float"]
    keys = [[0, 0.0, "constant"], [10, 1.0], [20, 3.0, "smooth"], [30, 3.0]]
    value = param.coerce({"keys": keys, "interpolation": "linear"})
    assert param.at(value, 9.9) == 0.0  # constant out of key 1
    assert param.at(value, 10.0) == 1.0  # on a key: its value
    assert param.at(value, 15.0) == 2.0  # linear (the curve's) out of key 2
    assert param.at(value, 20.0) == 3.0
    # smooth out of key 3: slope (3 - 1) / (30 - 10) there, flat at the last key; at the
    # middle the Hermite basis weighs the first slope (times the span 10) by 1/8
    assert param.at(value, 25.0) == pytest.approx(3.0 + 0.1 * 10 / 8)


def test_constant_on_a_middle_key_is_that_keys_value():
    param = PARAMS["float"]
    value = param.coerce({"keys": [[1, 0.0], [5, 1.0], [9, 2.0]], "interpolation": "constant"})
    assert [param.at(value, f) for f in (0, 1, 4.99, 5, 8.5, 9, 12)] == [0, 0, 0, 1, 1, 2, 2]


def test_smooth_values_stay_inside_the_limits():
    """0, 0, 10, 10: the Catmull-Rom slopes at the middle keys dip the first segment below 0
    and lift the last above 10."""
    free = spec.Float("size", 0.0, "A size.")
    limited = spec.Float("size", 0.0, "A size.", min=0.0, max=10.0)
    keys = {"keys": [[0, 0.0], [10, 0.0], [20, 10.0], [30, 10.0]], "interpolation": "smooth"}
    frames = np.linspace(0, 30, 301)
    unlimited = evaluated(free, free.coerce(keys), frames)[:, 0]
    assert unlimited.min() < -0.1 and unlimited.max() > 10.1
    got = evaluated(limited, limited.coerce(keys), frames)[:, 0]
    np.testing.assert_array_equal(got, np.clip(unlimited, 0.0, 10.0))


def test_two_element_keys_load_and_save_as_before():
    param = spec.RGBA("gain", 1.0, "Gain.")
    old = {"keys": [[1, 1.0], [24, [2.0, 1.0, 0.5, 1.0]]], "interpolation": "linear"}
    value = param.coerce(old)
    assert value == {
        "keys": [[1.0, (1.0, 1.0, 1.0, 1.0)], [24.0, (2.0, 1.0, 0.5, 1.0)]],
        "interpolation": "linear",
    }
    assert param.to_json(value) == {
        "keys": [[1.0, [1.0, 1.0, 1.0, 1.0]], [24.0, [2.0, 1.0, 0.5, 1.0]]],
        "interpolation": "linear",
    }
    assert param.at(value, 12.5) == pytest.approx((1.5, 1.0, 0.75, 1.0))
    assert param.coerce({"keys": [[3, 0.5]]})["interpolation"] == "linear"


def test_a_key_names_its_interpolation_only_where_it_differs_from_the_curve():
    param = PARAMS["float"]
    keys = [[0, 0.0, "smooth"], [5, 1.0, "linear"], [9, 2.0, "constant"], [12, 0.5]]
    value = param.coerce({"keys": keys, "interpolation": "smooth"})
    assert value["keys"] == [[0.0, 0.0], [5.0, 1.0, "linear"], [9.0, 2.0, "constant"], [12.0, 0.5]]
    assert param.to_json(value)["keys"] == value["keys"]
    assert param.coerce(param.to_json(value)) == value


def _smooth_comp() -> tuple[mb.Graph, list[list]]:
    g = mb.Graph()
    g.settings.format = mb.Format(6, 4)
    g.settings.frame_range = (1, 30)
    keys = [
        [1, [0.1, 0.2, 0.3, 1.0]],
        [8, [0.9, 0.1, 0.5, 0.8], "linear"],
        [15, [0.4, 0.7, 0.2, 1.0]],
        [30, [0.0, 0.3, 0.9, 0.5], "constant"],
    ]
    g.add("Constant", color={"keys": keys, "interpolation": "smooth"})
    return g, keys


def test_script_round_trip_keeps_per_key_interpolation(tmp_path):
    g, keys = _smooth_comp()
    path = tmp_path / "comp.mbx"
    g.save(path)
    saved = json.loads(path.read_text())["nodes"]["Constant1"]["params"]["color"]
    assert saved == {
        "interpolation": "smooth",
        "keys": [[1.0, keys[0][1]], [8.0, keys[1][1], "linear"], [15.0, keys[2][1]], keys[3]],
    }
    loaded = mb.load(path)
    assert loaded["Constant1"]["color"] == g["Constant1"]["color"]
    assert script.to_dict(loaded)["nodes"] == json.loads(path.read_text())["nodes"]


@pytest.mark.parametrize("frame", [1, 3.5, 8, 11, 14.25, 22, 30, 40])
def test_a_smooth_constant_renders_the_interpolated_colour(frame):
    g, keys = _smooth_comp()
    expected = reference(keys, "smooth", np.array([frame], np.float64))[0]
    image = g.render(g["Constant1"], frame=frame, backend="cpu")
    assert image.pixels.shape == (4, 6, 4)
    np.testing.assert_allclose(image.pixels, np.broadcast_to(expected, (4, 6, 4)), atol=1e-6)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {"keys": [[1, 0.0], [2, 1.0], [3, 2.0, "cubic"]]},
            "Grade1.gain: key 3: interpolation must be constant, linear or smooth, got 'cubic'",
        ),
        (
            {"keys": [[1, 0.0]], "interpolation": "spline"},
            "Grade1.gain: interpolation must be constant, linear or smooth, got 'spline'",
        ),
        ({"keys": [[1, 0.0], [2, "abc"]]}, "Grade1.gain: key 2: expected 4 numbers, got 'abc'"),
        ({"keys": [["x", 0.0]]}, "Grade1.gain: key 1: frame: expected a number, got 'x'"),
        (
            {"keys": [[1, 0.0, "smooth", 4]]},
            (
                "Grade1.gain: key 1: expected [frame, value] or [frame, value, interpolation], "
                "got [1, 0.0, 'smooth', 4]"
            ),
        ),
        ({"keys": []}, "Grade1.gain: 'keys' must be a non-empty list of [frame, value]"),
    ],
)
def test_bad_keys_are_one_line_naming_the_parameter(tmp_path, value, message):
    g = mb.Graph()
    grade = g.add("Grade")
    with pytest.raises(mb.GraphError) as error:
        grade["gain"] = value
    assert str(error.value) == message
    path = tmp_path / "bad.mbx"
    g.save(path)
    data = json.loads(path.read_text())
    data["nodes"]["Grade1"]["params"]["gain"] = value
    path.write_text(json.dumps(data))
    with pytest.raises(mb.ScriptError) as error:
        mb.load(path)
    assert str(error.value) == f"{path}: {message}"
    assert "\n" not in str(error.value)


def test_setting_a_key_in_the_editor_keeps_the_segments_kind():
    """The properties panel's helper: a key set on a key keeps its interpolation, a key
    set inside a segment takes the kind of the key before it."""
    from mattebox.app import properties  # the editor's helper (PySide6 is a dependency)

    param = PARAMS["float"]
    stored = param.coerce({"keys": [[0, 0.0, "smooth"], [10, 1.0]], "interpolation": "linear"})
    updated = param.coerce(properties.with_value_at(param, stored, 0, 0.5))
    assert updated["keys"] == [[0.0, 0.5, "smooth"], [10.0, 1.0]]
    split = param.coerce(properties.toggled_key(param, stored, 5))
    assert split["keys"] == [[0.0, 0.0, "smooth"], [5.0, 0.5, "smooth"], [10.0, 1.0]]
    before = param.coerce(properties.with_value_at(param, stored, -5, 2.0))
    assert before["keys"][0] == [-5.0, 2.0]
