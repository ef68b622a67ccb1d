"""Hard limits every value meets before the engine works with it (issue 12, item 1).

A parameter's own ``min``/``max`` (its declaration) are its hard limits; these are the
limits of the types and of images that hold for every parameter and every script, so
that no value reaches a kernel, a file name or an allocation it cannot fit. The
decisions are written down in ``docs/architecture.md`` ("Limits").
"""

from __future__ import annotations

#: The largest whole number a parameter may hold: kernels read ints as 32-bit (WGSL's
#: ``i32``), so anything past it would wrap.
MAX_INT = 2**31 - 1

#: The largest magnitude of a float parameter: parameter blocks are float32, so anything
#: past it would become infinity.
MAX_FLOAT = 3.4028234663852886e38

#: The largest width or height of a format or of a generated image, in pixels
#: (OpenEXR's and OpenImageIO's practical limit; a 65536 x 65536 RGBA float image is
#: 64 GiB).
MAX_IMAGE_SIZE = 65536

#: The largest frame number, positive or negative: frames are whole numbers that a
#: float64 holds exactly (animation evaluates keys at float frames).
MAX_FRAME = 2**53 - 1
