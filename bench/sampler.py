"""A stack sampler in plain Python, for machines where no profiler can be installed (the
GPU machine): a daemon thread reads ``sys._current_frames()`` every few milliseconds
and counts, per thread, the innermost frames of each stack.

    with Sampler(interval=0.002) as sampler:
        ...
    print(sampler.report())

It takes the GIL at each sample, so it slows what it watches a little (about 1% at the
default interval); the shares it reports, not the absolute times, are what it is for.
"""

from __future__ import annotations

import collections
import sys
import threading
from typing import Self


class Sampler:
    def __init__(self, interval: float = 0.002, depth: int = 12):
        self.interval = interval
        self.depth = depth
        self.samples: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.totals: collections.Counter = collections.Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.wait(self.interval):
            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                name = names.get(ident, str(ident))
                stack = []
                while frame is not None and len(stack) < self.depth:
                    code = frame.f_code
                    stack.append(f"{code.co_filename.rsplit('/', 2)[-1]}:{code.co_name}")
                    frame = frame.f_back
                self.samples[name][" < ".join(stack)] += 1
                self.totals[name] += 1

    def report(self, top: int = 25, min_samples: int = 50) -> str:
        """The most frequent stacks of each thread that was sampled at least
        ``min_samples`` times (short-lived pool threads are left out), innermost frame
        first, with their share of that thread's samples."""
        lines = []
        for name, counter in sorted(self.samples.items(), key=lambda kv: -self.totals[kv[0]]):
            total = self.totals[name]
            if total < min_samples:
                continue
            lines.append(f"== thread {name}: {total} samples ({total * self.interval:.1f} s)")
            for stack, count in counter.most_common(top):
                lines.append(f"{100 * count / total:5.1f}%  {stack}")
        return "\n".join(lines)
