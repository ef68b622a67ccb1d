"""How many threads OpenImageIO decodes and encodes with.

OpenImageIO decompresses the chunks of an EXR (zip, piz, dwaa...) on several threads
when a read asks for several chunks at once, and compresses them on several threads when
writing. The count is one setting for reads (in the decoder processes) and writes (in
the rendering process): ``MATTEBOX_IO_THREADS``, else :func:`set_io_threads`, else the
CPUs this process may run on (``os.sched_getaffinity``, so a render pinned with
``taskset`` uses the cores it was given; OpenImageIO's own default counts every core of
the machine).
"""

from __future__ import annotations

import os

import OpenImageIO as oiio

from mattebox.engine.io.info import ImageIOError

THREADS_ENV = "MATTEBOX_IO_THREADS"
_threads = [0]  # 0: the CPUs this process may run on
_applied = [0]  # the count last given to OpenImageIO in this process (0: none yet)


def set_io_threads(count: int) -> None:
    """Decode and encode images on ``count`` threads (0: one per available CPU).

    ``MATTEBOX_IO_THREADS`` still wins. The decoder processes take the new count with
    their next read.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"I/O threads: expected a whole number >= 0, got {count!r}")
    _threads[0] = count


def available_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def io_threads() -> int:
    """The number of threads image reads and writes use (always >= 1)."""
    text = os.environ.get(THREADS_ENV)
    if text:
        try:
            count = int(text)
        except ValueError:
            count = -1
        if count < 0:
            raise ImageIOError(f"{THREADS_ENV}: expected a whole number >= 0, got {text!r}")
    else:
        count = _threads[0]
    return count or available_cpus()


def apply(count: int) -> None:
    """Give OpenImageIO ``count`` threads in this process: its own pool (``threads``,
    used by the OpenEXR core reader and by ImageBufAlgo) and OpenEXR's (``exr_threads``,
    used by the OpenEXR library's writer and reader)."""
    if count != _applied[0]:
        oiio.attribute("threads", count)
        oiio.attribute("exr_threads", count)
        _applied[0] = count


def in_effect() -> tuple[int, int]:
    """OpenImageIO's ``threads`` and ``exr_threads`` in this process (for tests)."""
    return oiio.get_int_attribute("threads", 0), oiio.get_int_attribute("exr_threads", 0)
