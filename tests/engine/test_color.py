"""Tests for mattebox.engine.color: config resolution, names, default colour spaces,
processors, the threaded CPU apply and premultiplication.

References: OCIO's own CPU processor applied in one plain single-threaded call, and
formulas written here in numpy (sRGB curve, AP1->AP0 matrix, trilinear 3D LUT).
"""

import os

import numpy as np
import PyOpenColorIO as OCIO
import pytest

from mattebox.engine import color

W, H = 37, 23
STUDIO_VIEW = "ACES 2.0 - SDR 100 nits (Rec.709)"

SMALL_CONFIG = """\
ocio_profile_version: 2
roles:
  default: lin
  scene_linear: lin
  color_picking: picker
file_rules:
  - !<Rule> {name: PNG, extension: png, pattern: "*", colorspace: g22}
  - !<Rule> {name: Default, colorspace: lin}
displays:
  Monitor:
    - !<View> {name: Raw, colorspace: lin}
    - !<View> {name: Gamma, colorspace: g22}
active_displays: []
active_views: []
colorspaces:
  - !<ColorSpace>
    name: lin
  - !<ColorSpace>
    name: g22
    from_scene_reference: !<ExponentTransform> {value: 2.2, direction: inverse}
  - !<ColorSpace>
    name: picker
    from_scene_reference: !<ExponentTransform> {value: 2.4, direction: inverse}
"""


@pytest.fixture(autouse=True)
def no_ocio_variable(monkeypatch):
    """Tests name their config or mean the default one, whatever the shell has set."""
    monkeypatch.delenv("OCIO", raising=False)


@pytest.fixture
def rng():
    return np.random.default_rng(99)


@pytest.fixture
def studio():
    return color.get_config(color.DEFAULT_CONFIG)


@pytest.fixture
def small_config(tmp_path):
    path = tmp_path / "small.ocio"
    path.write_text(SMALL_CONFIG)
    return str(path)


def random_premultiplied(rng, height=H, width=W):
    """Alpha in [0, 1] with exact zeros and ones; colour = unpremultiplied * alpha."""
    alpha = rng.random((height, width, 1), dtype=np.float32)
    alpha.flat[::7] = 0.0
    alpha.flat[::9] = 1.0
    colour = rng.random((height, width, 3), dtype=np.float32) * 1.5 - 0.1
    colour[alpha[..., 0] > 0] *= alpha[alpha[..., 0] > 0]  # alpha-0 pixels keep light
    return np.concatenate([colour, alpha], axis=2)


def reference_apply(cpu_proc, pixels, unpremultiply=True):
    """OCIO's processor on a flat copy in one call, premultiplication done by hand."""
    rgb = pixels[..., :3].astype(np.float32).reshape(-1, 3)
    alpha = pixels[..., 3].reshape(-1, 1)
    covered = (alpha > 0)[:, 0]
    flat = rgb.copy()
    if unpremultiply:
        flat[covered] = rgb[covered] / alpha[covered]
    flat = np.ascontiguousarray(flat).reshape(-1)
    cpu_proc.applyRGB(flat)
    flat = flat.reshape(-1, 3)
    if unpremultiply:
        flat[covered] *= alpha[covered]
        black = np.zeros(3, np.float32)
        cpu_proc.applyRGB(black)
        if np.abs(black).max() > 1e-6:  # a log space: keep alpha-0 light untouched
            flat[~covered] = rgb[~covered]
    out = np.concatenate([flat, alpha], axis=1)
    return out.reshape(pixels.shape)


# --------------------------------------------------------------------------- configs


def test_default_config_is_a_versioned_studio_config():
    names = [str(n) for n in OCIO.BuiltinConfigRegistry()]
    assert color.DEFAULT_CONFIG.removeprefix("ocio://") in names
    assert color.DEFAULT_CONFIG.startswith("ocio://studio-config-v")
    assert color.resolve_config_uri(None) == color.DEFAULT_CONFIG
    assert color.get_config().getName() == color.DEFAULT_CONFIG.removeprefix("ocio://")


@pytest.mark.parametrize(
    ("alias", "family"),
    [("ocio://studio-config-latest", "studio-config-v"), ("ocio://default", "cg-config-v"),
     ("ocio://cg-config-latest", "cg-config-v")],
)  # fmt: skip
def test_latest_aliases_resolve_to_versioned_uris(alias, family):
    resolved = color.resolve_config_uri(alias)
    assert resolved != alias and resolved.startswith("ocio://" + family)
    assert resolved.removeprefix("ocio://") in [str(n) for n in OCIO.BuiltinConfigRegistry()]
    assert color.resolve_config_uri(resolved) == resolved  # versioned URIs are kept


def test_ocio_environment_variable_is_honoured(monkeypatch, small_config, tmp_path):
    monkeypatch.setenv("OCIO", small_config)
    assert color.resolve_config_uri(None) == small_config
    config = color.get_config()
    assert color.colorspace_names(config) == ["lin", "g22", "picker"]
    assert color.working_space(config, None) == "lin"
    assert color.resolve_config_uri("ocio://studio-config-latest").startswith("ocio://studio")
    monkeypatch.setenv("OCIO", "ocio://studio-config-latest")
    assert color.resolve_config_uri(None) == OCIO.ResolveConfigPath("ocio://studio-config-latest")
    monkeypatch.chdir(tmp_path)
    assert color.resolve_config_uri("small.ocio") == small_config  # made absolute


def test_configs_are_cached_and_reloaded_when_the_file_changes(small_config):
    first = color.get_config(small_config)
    assert color.get_config(small_config) is first
    with open(small_config, "a") as handle:
        handle.write("  - !<ColorSpace>\n    name: added\n")
    stat = os.stat(small_config)
    os.utime(small_config, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert "added" in color.colorspace_names(color.get_config(small_config))


@pytest.mark.parametrize(
    ("uri", "message"),
    [("ocio://studio-config-lates", r"'ocio://studio-config-lates'.*'studio-config-latest'"),
     ("/no/such/config.ocio", r"not found: /no/such/config\.ocio")],
)  # fmt: skip
def test_bad_configs_are_named(uri, message):
    with pytest.raises(color.ColorError, match=message):
        color.get_config(uri)


# --------------------------------------------------------------------------- names


def test_names_of_the_studio_config(studio):
    assert "ACEScg" in color.colorspace_names(studio)
    assert "sRGB - Display" in color.displays(studio)
    assert STUDIO_VIEW in color.views(studio, "sRGB - Display")
    assert "Raw" in color.views(studio, "sRGB - Display")
    assert "ACES 1.3 Reference Gamut Compression" in color.looks(studio)
    assert color.working_space(studio, None) == "ACEScg"
    assert color.working_space(studio, "scene_linear") == "ACEScg"
    assert color.working_space(studio, "lin_rec709_srgb") == "Linear Rec.709 (sRGB)"  # alias


@pytest.mark.parametrize(
    ("path", "datatype", "expected"),
    [
        ("plate.0001.exr", "half", "ACES2065-1"),  # the config's EXR file rule
        ("plate.0001.EXR", "float", "ACES2065-1"),
        ("scan.tif", "float", "ACEScg"),
        ("scan.tif", "half", "ACEScg"),
        ("scan.tif", "uint16", "sRGB Encoded Rec.709 (sRGB)"),
        ("ref.png", "uint8", "sRGB Encoded Rec.709 (sRGB)"),
        ("ref.jpg", "uint8", "sRGB Encoded Rec.709 (sRGB)"),
        ("film.dpx", "uint10", "sRGB Encoded Rec.709 (sRGB)"),
    ],
)
def test_default_file_colorspace_in_the_studio_config(studio, path, datatype, expected):
    assert color.default_file_colorspace(studio, path, datatype) == expected


def test_default_file_colorspace_in_a_small_config(small_config):
    config = color.get_config(small_config)
    assert color.default_file_colorspace(config, "a.png", "uint8") == "g22"  # its file rule
    assert color.default_file_colorspace(config, "a.exr", "half") == "lin"  # scene_linear
    assert color.default_file_colorspace(config, "a.tif", "uint8") == "picker"  # color_picking


# --------------------------------------------------------------------------- applying


PROCESSOR_NAMES = ["ACEScg->ACEScct (log)", "ACEScg->sRGB texture", "ACES 2.0 view",
                   "view with look", "cube"]  # fmt: skip


def processors_under_test(lut_path):
    return {
        "ACEScg->ACEScct (log)": color.cpu_processor(None, "ACEScg", "ACEScct"),
        "ACEScg->sRGB texture": color.cpu_processor(None, "ACEScg", "sRGB Encoded Rec.709 (sRGB)"),
        "ACES 2.0 view": color.display_cpu_processor(None, "ACEScg", "sRGB - Display", STUDIO_VIEW),
        "view with look": color.display_cpu_processor(
            None,
            "ACEScg",
            "sRGB - Display",
            STUDIO_VIEW,
            look="ACES 1.3 Reference Gamut Compression",
        ),
        "cube": color.file_transform_cpu_processor(None, lut_path),
    }


@pytest.mark.parametrize("name", PROCESSOR_NAMES)
@pytest.mark.parametrize(("threads", "block_rows"), [(1, None), (2, 1), (3, 5), (4, None), (2, 23)])
def test_apply_cpu_matches_ocio_applied_in_one_call(tmp_path, rng, name, threads, block_rows):
    lut = tmp_path / "random.cube"
    write_cube(lut, rng.random((5, 5, 5, 3), dtype=np.float32))
    cpu_proc = processors_under_test(str(lut))[name]
    pixels = random_premultiplied(rng)
    before = pixels.copy()
    result = color.apply_cpu(cpu_proc, pixels, threads=threads, block_rows=block_rows)
    np.testing.assert_array_equal(pixels, before)  # input untouched
    assert result.dtype == np.float32 and result.flags.c_contiguous
    np.testing.assert_array_equal(result[..., 3], pixels[..., 3])  # alpha unchanged
    np.testing.assert_allclose(result, reference_apply(cpu_proc, pixels), rtol=1e-6, atol=1e-6)


def test_apply_cpu_without_unpremultiply_is_plain_ocio(rng):
    cpu_proc = color.cpu_processor(None, "ACEScg", "ACEScct")
    pixels = random_premultiplied(rng)
    result = color.apply_cpu(cpu_proc, pixels, threads=2, unpremultiply=False, block_rows=4)
    expected = pixels.copy().reshape(-1)
    cpu_proc.applyRGBA(expected)
    np.testing.assert_allclose(result, expected.reshape(pixels.shape), rtol=1e-6, atol=1e-6)


def test_premultiplication_around_the_transform(rng):
    """Colour transforms act on unpremultiplied colour; alpha-0 pixels follow the rule."""
    unpremultiplied = rng.random((H, W, 3), dtype=np.float32)
    alpha = rng.random((H, W, 1), dtype=np.float32) * 0.9 + 0.1
    pixels = np.concatenate([unpremultiplied * alpha, alpha], axis=2)
    pixels[0, :5] = [0.25, 0.5, 0.75, 0.0]  # additive light, no coverage
    pixels[1, :5] = 0.0  # transparent black

    to_log = color.cpu_processor(None, "ACEScg", "ACEScct")
    result = color.apply_cpu(to_log, pixels, threads=2)
    expected = unpremultiplied.copy().reshape(-1)
    to_log.applyRGB(expected)
    expected = expected.reshape(H, W, 3)
    covered = slice(2, None)
    np.testing.assert_allclose(result[covered, :, :3] / alpha[covered], expected[covered],
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    np.testing.assert_array_equal(result[0, :5], pixels[0, :5])  # log: left unchanged
    np.testing.assert_array_equal(result[1, :5], 0.0)  # black stays black

    # A transform that keeps black at black converts additive light as it is.
    matrix = np.array(
        [[0.6954522414, 0.1406786965, 0.1638690622],
         [0.0447945634, 0.8596711185, 0.0955343182],
         [-0.0055258826, 0.0040252103, 1.0015006723]]
    )  # fmt: skip
    to_ap0 = color.cpu_processor(None, "ACEScg", "ACES2065-1")
    result = color.apply_cpu(to_ap0, pixels, threads=2)
    np.testing.assert_allclose(result[0, :5, :3], pixels[0, :5, :3] @ matrix.T, rtol=1e-5)
    np.testing.assert_array_equal(result[1, :5], 0.0)


def test_srgb_encoding_matches_the_formula(rng):
    linear = rng.random((H, W, 4), dtype=np.float32) * 1.2
    linear[..., 3] = 1.0
    linear[0, :10, :3] = rng.random((10, 3), dtype=np.float32) * 0.003  # the linear toe
    cpu_proc = color.cpu_processor(None, "Linear Rec.709 (sRGB)", "sRGB Encoded Rec.709 (sRGB)")
    result = color.apply_cpu(cpu_proc, linear, threads=2)
    x = linear[..., :3].astype(np.float64)
    encoded = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
    # OCIO's curve is the continuous-slope variant of the IEC formula (they differ by up to
    # 1e-5 near the 0.003 break), and its CPU pow is a fast approximation (~8e-6 relative).
    toe = x < 0.01
    np.testing.assert_allclose(result[..., :3][~toe], encoded[~toe], rtol=1e-5)
    np.testing.assert_allclose(result[..., :3][toe], encoded[toe], atol=2e-5)


def test_acescg_to_aces2065_matches_the_published_matrix(rng):
    ap1_to_ap0 = np.array(
        [[0.6954522414, 0.1406786965, 0.1638690622],
         [0.0447945634, 0.8596711185, 0.0955343182],
         [-0.0055258826, 0.0040252103, 1.0015006723]]
    )  # fmt: skip
    pixels = random_premultiplied(rng)
    result = color.apply_cpu(color.cpu_processor(None, "ACEScg", "ACES2065-1"), pixels)
    expected = pixels[..., :3].astype(np.float64) @ ap1_to_ap0.T
    np.testing.assert_allclose(result[..., :3], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("src", "dst"),
    [("ACEScg", "ACES2065-1"), ("ACES2065-1", "ACEScg"), ("ACEScg", "Linear Rec.709 (sRGB)")],
)
def test_changes_of_primaries_have_a_matrix_form(rng, src, dst):
    proc = color.colorspace_processor(None, src, dst)
    rows = color.matrix_rows(proc)
    assert rows is not None and all(row[3] == 0.0 for row in rows)
    colours = rng.uniform(-0.2, 4.0, (500, 3)).astype(np.float32)
    expected = colours.copy()
    color.cpu(proc).applyRGB(expected.reshape(-1))
    matrix = np.array([row[:3] for row in rows])
    np.testing.assert_allclose(colours @ matrix.T, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("src", "dst"), [("ACEScg", "ACEScct"), ("ACEScg", "sRGB - Texture"), ("ACEScg", "Raw")]
)
def test_curves_and_non_colour_have_no_matrix_form(src, dst):
    rows = color.matrix_rows(color.colorspace_processor(None, src, dst))
    if dst == "Raw":  # a no-op processor is the identity matrix
        assert rows == ((1.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0))
    else:
        assert rows is None


def test_inverse_display_round_trips(rng):
    forward = color.display_cpu_processor(None, "ACEScg", "sRGB - Display", "Un-tone-mapped")
    inverse = color.display_cpu_processor(
        None, "ACEScg", "sRGB - Display", "Un-tone-mapped", inverse=True
    )
    pixels = random_premultiplied(rng)
    pixels[..., :3] = np.clip(pixels[..., :3], 0.01, None) * pixels[..., 3:]
    back = color.apply_cpu(inverse, color.apply_cpu(forward, pixels))
    covered = pixels[..., 3] > 0
    np.testing.assert_allclose(back[covered], pixels[covered], rtol=1e-4, atol=5e-5)


# --------------------------------------------------------------------------- LUT files


def write_cube(path, table):
    """Write a .cube 3D LUT; ``table[r, g, b]`` is the output for input (r, g, b)."""
    size = table.shape[0]
    lines = [f"LUT_3D_SIZE {size}"]
    for b in range(size):  # red changes fastest
        for g in range(size):
            for r in range(size):
                lines.append(" ".join(f"{v:.7f}" for v in table[r, g, b]))
    path.write_text("\n".join(lines) + "\n")


def trilinear(table, rgb):
    """Trilinear interpolation of ``table`` at rgb in [0, 1], written from the definition."""
    size = table.shape[0]
    position = np.clip(rgb, 0, 1) * (size - 1)
    low = np.minimum(np.floor(position).astype(int), size - 2)
    frac = position - low
    out = np.zeros(rgb.shape[:-1] + (3,))
    for corner in np.ndindex(2, 2, 2):
        weight = np.ones(rgb.shape[:-1])
        for axis in range(3):
            weight = weight * (frac[..., axis] if corner[axis] else 1 - frac[..., axis])
        index = tuple(low[..., axis] + corner[axis] for axis in range(3))
        out += weight[..., None] * table[index]
    return out


def identity_table(size):
    axis = np.linspace(0, 1, size)
    return np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1)


@pytest.mark.parametrize("kind", ["identity+offset", "random"])
def test_cube_file_transform_is_trilinear(tmp_path, rng, kind):
    size = 5
    table = identity_table(size) + [0.05, -0.02, 0.1]
    if kind == "random":
        table = rng.random((size, size, size, 3))
    lut = tmp_path / f"{kind}.cube"
    write_cube(lut, table)
    table = np.round(table, 7)  # as written
    pixels = np.concatenate([rng.random((H, W, 3)), np.ones((H, W, 1))], axis=2)
    pixels = pixels.astype(np.float32)
    cpu_proc = color.file_transform_cpu_processor(None, str(lut))
    result = color.apply_cpu(cpu_proc, pixels, threads=2)
    expected = trilinear(table, pixels[..., :3].astype(np.float64))
    np.testing.assert_allclose(result[..., :3], expected, atol=2e-6)


def test_lut_edits_are_picked_up(tmp_path, rng):
    lut = tmp_path / "grade.cube"
    write_cube(lut, identity_table(3) + 0.1)
    pixels = np.full((2, 3, 4), 0.5, np.float32)
    pixels[..., 3] = 1.0
    first = color.apply_cpu(color.file_transform_cpu_processor(None, str(lut)), pixels)
    np.testing.assert_allclose(first[..., :3], 0.6, atol=1e-6)
    write_cube(lut, identity_table(3) + 0.2)
    stat = os.stat(lut)
    os.utime(lut, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    second = color.apply_cpu(color.file_transform_cpu_processor(None, str(lut)), pixels)
    np.testing.assert_allclose(second[..., :3], 0.7, atol=1e-6)


# --------------------------------------------------------------------------- caching, errors


def test_processors_are_cached():
    first = color.colorspace_processor(None, "ACEScg", "ACEScct")
    assert color.colorspace_processor(None, "ACEScg", "ACEScct") is first
    assert color.get_processor("colorspace", src="ACEScg", dst="ACEScct") is first
    assert color.cpu(first) is color.cpu(first)
    assert color.cpu_processor(None, "ACEScg", "ACEScct") is color.cpu(first)
    view = color.get_processor("display", src="ACEScg", display="sRGB - Display", view="Raw")
    assert view is color.display_processor(None, "ACEScg", "sRGB - Display", "Raw")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: color.cpu_processor(None, "ACEScg", "ACEScgg"),
         r"unknown colour space 'ACEScgg' \(did you mean 'ACEScg'"),
        (lambda: color.display_cpu_processor(None, "ACEScg", "sRGB Display", "Raw"),
         r"unknown display 'sRGB Display' \(did you mean 'sRGB - Display'"),
        (lambda: color.display_cpu_processor(None, "ACEScg", "sRGB - Display", "ACES 2.0"),
         r"display 'sRGB - Display' has no view 'ACES 2.0'.*ACES 2.0 - SDR 100 nits"),
        (lambda: color.display_cpu_processor(None, "ACEScg", "sRGB - Display", "Raw",
                                             look="ACES Gamut Compression"),
         r"unknown look 'ACES Gamut Compression' \(did you mean 'ACES 1.3 Reference"),
        (lambda: color.file_transform_cpu_processor(None, "/no/such/grade.cube"),
         r"LUT file not found: /no/such/grade\.cube"),
        (lambda: color.file_transform_cpu_processor(None, __file__, interpolation="linaer"),
         r"unknown interpolation 'linaer' \(did you mean 'linear'"),
        (lambda: color.views(color.get_config(), "Rec709"), r"unknown display 'Rec709'"),
        (lambda: color.working_space(color.get_config(), "ACEScg2"), r"unknown colour space"),
        (lambda: color.get_processor("colour", src="a", dst="b"), r"unknown processor kind"),
        (lambda: color.apply_cpu(color.cpu_processor(None, "ACEScg", "ACEScct"),
                                 np.ones((4, 4, 3), np.float32)), r"\(H, W, 4\)"),
    ],
)  # fmt: skip
def test_errors_name_the_bad_thing(call, message):
    with pytest.raises(color.ColorError, match=message) as caught:
        call()
    assert "\n" not in str(caught.value)


def test_broken_lut_file_is_named(tmp_path):
    lut = tmp_path / "broken.cube"
    lut.write_text("LUT_3D_SIZE 3\n0 0 0\nnot numbers\n")
    with pytest.raises(color.ColorError, match=r"broken\.cube") as caught:
        color.file_transform_cpu_processor(None, str(lut))
    assert "\n" not in str(caught.value)
