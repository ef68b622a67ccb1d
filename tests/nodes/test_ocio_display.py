"""OCIODisplay through the engine on every backend, against OpenColorIO's own
DisplayViewTransform on the unpremultiplied colour."""

from __future__ import annotations

import numpy as np
import PyOpenColorIO as OCIO
import pytest

import mattebox as mb
from tests.conftest import random_image
from tests.nodes.test_ocio_colorspace import ATOL, ocio_reference, studio_config


def display_processor(config, src, display, view, look="", inverse=False):
    transform = OCIO.DisplayViewTransform(src=src, display=display, view=view)
    if look:
        group = OCIO.LookTransform(src=src, dst=src, looks=look)
        transform = OCIO.GroupTransform([group, transform])
    direction = OCIO.TRANSFORM_DIR_INVERSE if inverse else OCIO.TRANSFORM_DIR_FORWARD
    return config.getProcessor(transform, direction)


def rendered(backend, array_source, pixels, **params):
    """OCIODisplay from ACEScg with ``params`` over ``pixels``, rendered on ``backend``."""
    g = mb.Graph()
    source = array_source(g, pixels)
    node = g.add("OCIODisplay", inputs={"Source": source}, in_colorspace="ACEScg", **params)
    return g.render(node, frame=1, backend=backend).pixels


def expected(pixels, *args, **kw):
    """OCIO's own processor (:func:`display_processor` from ACEScg) on ``pixels``."""
    return ocio_reference(display_processor(studio_config(), "ACEScg", *args, **kw), pixels)


@pytest.mark.parametrize(
    "display, view",
    [
        ("sRGB - Display", "ACES 2.0 - SDR 100 nits (Rec.709)"),
        ("sRGB - Display", "Un-tone-mapped"),
        ("Display P3 - Display", "ACES 2.0 - SDR 100 nits (P3 D65)"),
    ],
)
def test_ocio_display_matches_ocio(backend, array_source, display, view):
    pixels = random_image(11, 17, seed=21, lo=0.01, hi=2.0)
    out = rendered(backend, array_source, pixels, display=display, view=view)
    np.testing.assert_allclose(out, expected(pixels, display, view), rtol=1e-4, atol=ATOL)


def test_ocio_display_inverse_matches_ocio(backend, array_source):
    pixels = random_image(7, 9, seed=22, lo=0.05, hi=0.9)
    display, view = "sRGB - Display", "Un-tone-mapped"
    out = rendered(backend, array_source, pixels, display=display, view=view, inverse=True)
    reference = expected(pixels, display, view, inverse=True)
    np.testing.assert_allclose(out, reference, rtol=1e-4, atol=ATOL)


def test_ocio_display_with_a_look_matches_ocio(backend, array_source):
    """A look goes before the view: OCIO's LookTransform back to the source space, then the
    display's view, as one group."""
    pixels = random_image(9, 13, seed=24, lo=0.01, hi=2.0)
    pixels[0, :, 0] = 2.5 * pixels[0, :, 3]  # saturated reds the gamut compression moves
    display, view, look = "sRGB - Display", "Un-tone-mapped", "ACES 1.3 Reference Gamut Compression"
    out = rendered(backend, array_source, pixels, display=display, view=view, look=look)
    reference = expected(pixels, display, view, look=look)
    np.testing.assert_allclose(out, reference, rtol=1e-4, atol=ATOL)
    assert not np.allclose(reference, expected(pixels, display, view), atol=1e-3)


def test_a_view_the_display_lacks_names_the_node(array_source):
    g = mb.Graph()
    node = g.add(
        "OCIODisplay",
        inputs={"Source": array_source(g, random_image(4, 4, seed=23))},
        display="sRGB - Display",
        view="No Such View",
    )
    with pytest.raises(mb.RenderError, match="OCIODisplay1.*No Such View"):
        g.render(node, frame=1, backend="cpu")
