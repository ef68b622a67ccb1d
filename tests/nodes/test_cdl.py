"""CDL, through the engine on every backend, against OpenColorIO's CDLTransform.

The reference is OCIO's CPU processor. Its default processor (``getDefaultCPUProcessor``)
computes ``pow`` with a fast approximation (OPTIMIZATION_FAST_LOG_EXP_POW; measured up to
4e-5 absolute on these data), so that comparison allows 1e-4. The comparison with OCIO's
unoptimised processor (``OPTIMIZATION_NONE``, exact ``powf``) allows rtol 1e-5, atol 2e-6:
float32 ``pow`` on each side (WGSL's is exp2(y * log2(x))), then saturation up to 1.4
amplifying the difference (measured: 2.4e-7 on the CPU, 7.2e-7 on lavapipe).
"""

from __future__ import annotations

import numpy as np
import PyOpenColorIO as OCIO
import pytest

import mattebox as mb
from mattebox.nodes.color.cdl import CDL
from mattebox.nodes.kernel import wgsl_source
from tests.conftest import compile_wgsl, random_image

DEFAULT_TOL = {"rtol": 1e-4, "atol": 1e-4}  # OCIO's fast pow approximation
EXACT_TOL = {"rtol": 1e-5, "atol": 2e-6}  # float32 powf on both sides
GRADE = {
    "slope": (1.2, 0.9, 1.1, 1.0),
    "offset": (0.05, -0.02, 0.1, 0.0),
    "power": (1.3, 0.8, 1.1, 1.0),
    "saturation": 1.4,
}
DIRECTIONS = {"forward": OCIO.TRANSFORM_DIR_FORWARD, "inverse": OCIO.TRANSFORM_DIR_INVERSE}
STYLES = {"no_clamp": OCIO.CDL_NO_CLAMP, "asc": OCIO.CDL_ASC}


def ocio_cdl(
    pixels, slope, offset, power, saturation, direction="forward", style="no_clamp", exact=False
):
    """The pixels through OCIO's CDLTransform CPU processor (float32, alpha untouched)."""
    transform = OCIO.CDLTransform()
    transform.setSlope(slope[:3])
    transform.setOffset(offset[:3])
    transform.setPower(power[:3])
    transform.setSat(saturation)
    transform.setDirection(DIRECTIONS[direction])
    transform.setStyle(STYLES[style])
    processor = OCIO.Config.CreateRaw().getProcessor(transform)
    if exact:
        f32 = OCIO.BIT_DEPTH_F32
        cpu = processor.getOptimizedCPUProcessor(f32, f32, OCIO.OPTIMIZATION_NONE)
    else:
        cpu = processor.getDefaultCPUProcessor()
    out = np.ascontiguousarray(pixels, np.float32).reshape(-1, 4).copy()
    cpu.applyRGBA(out)
    return out.reshape(pixels.shape)


def render(backend, array_source, pixels, **params):
    g = mb.Graph()
    node = g.add("CDL", inputs={"Source": array_source(g, pixels)}, **params)
    return g.render(node, frame=1, backend=backend)


def test_ocio_default_style_is_no_clamp():
    """The node's default style follows OCIO's (CDL_TRANSFORM_DEFAULT is CDL_NO_CLAMP)."""
    assert OCIO.CDLTransform().getStyle() == OCIO.CDL_NO_CLAMP
    assert CDL.param("style").default == "no_clamp"


@pytest.mark.parametrize("direction", ["forward", "inverse"])
@pytest.mark.parametrize("style", ["no_clamp", "asc"])
def test_cdl_matches_ocio(backend, array_source, direction, style):
    pixels = random_image(17, 23, seed=1)  # negatives and values above 1 included
    out = render(backend, array_source, pixels, **GRADE, direction=direction, style=style)
    np.testing.assert_allclose(
        out.pixels, ocio_cdl(pixels, **GRADE, direction=direction, style=style), **DEFAULT_TOL
    )
    exact = ocio_cdl(pixels, **GRADE, direction=direction, style=style, exact=True)
    np.testing.assert_allclose(out.pixels, exact, **EXACT_TOL)
    assert out.data_window == (0, 0, 23, 17)


@pytest.mark.parametrize("direction", ["forward", "inverse"])
@pytest.mark.parametrize("style", ["no_clamp", "asc"])
def test_cdl_small_parameters(backend, array_source, direction, style):
    """Slope, power and saturation below 0.01: OCIO's inverse uses 1/0.01 for them."""
    grade = {
        "slope": (0.005, 2.0, 0.5, 1.0),
        "offset": (0.2, -0.3, 0.0, 0.0),
        "power": (0.5, 0.008, 2.0, 1.0),
    }
    grade["saturation"] = 0.004 if direction == "forward" else 0.7
    pixels = random_image(19, 13, seed=2, lo=0.0, hi=1.0)  # 1/0.008 as a power: keep bases <= 1
    out = render(backend, array_source, pixels, **grade, direction=direction, style=style)
    expected = ocio_cdl(pixels, **grade, direction=direction, style=style, exact=True)
    np.testing.assert_allclose(out.pixels, expected, **EXACT_TOL)


@pytest.mark.parametrize("direction", ["forward", "inverse"])
@pytest.mark.parametrize("style", ["no_clamp", "asc"])
def test_cdl_power_one(backend, array_source, direction, style):
    """Power 1: OCIO's optimiser turns the CDL into matrices and ranges.

    Its optimised inverse of the ASC style drops the final clamp to [0, 1] (OCIO 2.6; the
    unoptimised op has it), so the reference here is the unoptimised processor.
    """
    grade = {**GRADE, "power": (1.0, 1.0, 1.0, 1.0), "saturation": 0.7}
    pixels = random_image(17, 23, seed=3)
    out = render(backend, array_source, pixels, **grade, direction=direction, style=style)
    expected = ocio_cdl(pixels, **grade, direction=direction, style=style, exact=True)
    np.testing.assert_allclose(out.pixels, expected, rtol=1e-5, atol=1e-6)


def test_cdl_identity_no_clamp(backend, array_source):
    pixels = random_image(9, 13, seed=4)
    out = render(backend, array_source, pixels)
    np.testing.assert_allclose(out.pixels, pixels, rtol=1e-5, atol=1e-6)


def test_cdl_wgsl_compiles():
    compile_wgsl(
        wgsl_source(CDL.__module__), "OUT[0] = cdl_point(vec4<f32>(0.5, 0.25, 0.125, 0.75), 0u);"
    )
