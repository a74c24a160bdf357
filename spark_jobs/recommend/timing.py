"""How long each recommender step took: :func:`timed` and the run's STEP_LOG."""

from __future__ import annotations

import contextlib
import sys
import time


@contextlib.contextmanager
def timed(step: str):
    """Log how long a recommender step took (stderr, picked up by the task log; also
    appended to STEP_LOG for an in-process caller such as the benchmark)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds = round(time.perf_counter() - started, 1)
        STEP_LOG.append((step, seconds))
        print(f"[recommend] {step}: {seconds:.1f} s", file=sys.stderr, flush=True)


# (step, seconds) of the timed steps, in order, since the last recommend run began.
STEP_LOG: list[tuple[str, float]] = []
