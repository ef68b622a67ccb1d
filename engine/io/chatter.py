"""What C libraries print: kept off the user's stderr around the calls that can print.

libpng, libjpeg, libtiff and OpenImageIO write warnings and errors straight to file
descriptor 2, beside (and before) the one line Mattebox reports for the same failure. The
decoder process points its descriptor 2 at /dev/null (``worker.py``); writes, and decoding
inside this process (``MATTEBOX_IO_INPROCESS=1``), run here, so their library calls go
through :func:`captured`: descriptor 2 points at a temporary file while they run, and what
landed there goes to the ``mattebox.io`` logger at debug level instead of the terminal.
(OpenImageIO's global error, which it prints at exit when nobody took it, is taken with
``oiio.geterror()`` wherever a call can leave one.)

The redirection is process-wide: output of other threads during such a call (Python's
included) goes the same way. Set ``MATTEBOX_IO_VERBOSE=1`` to leave stderr alone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator

#: Set to 1 to let the I/O libraries print to stderr (here and in the decoder process).
VERBOSE_ENV = "MATTEBOX_IO_VERBOSE"

log = logging.getLogger("mattebox.io")

_lock = threading.Lock()
_state = {"depth": 0, "saved": -1, "file": None}


def verbose() -> bool:
    """Whether library output is to reach stderr (``MATTEBOX_IO_VERBOSE=1``)."""
    return os.environ.get(VERBOSE_ENV) == "1"


@contextlib.contextmanager
def captured() -> Iterator[None]:
    """Run the block with file descriptor 2 pointing at a temporary file; what the
    libraries printed goes to the debug log. Nests and may be entered by several threads
    at once (the first in redirects, the last out restores)."""
    if verbose():
        yield
        return
    with _lock:
        if _state["depth"] == 0:
            _redirect()
        _state["depth"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0:
                _restore()


def _redirect() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()  # Python's buffered text goes out before the switch
    capture = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _restore
    _state["saved"] = os.dup(2)
    os.dup2(capture.fileno(), 2)
    _state["file"] = capture


def _restore() -> None:
    with contextlib.suppress(Exception):
        sys.stderr.flush()  # Python text written meanwhile stays with the capture
    capture = _state["file"]
    os.dup2(_state["saved"], 2)
    os.close(_state["saved"])
    _state["saved"], _state["file"] = -1, None
    capture.seek(0)
    text = capture.read().decode("utf-8", "replace").strip()
    capture.close()
    if text:
        log.debug("library output: %s", text)
