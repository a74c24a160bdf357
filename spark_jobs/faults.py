"""Fault injection points for the reliability tests (failpoints).

``failpoint("publish")`` does nothing unless ``SHOPGUIDE_FAILPOINT`` names that point.
When it does, the process says so on stderr and stops right there, inside whatever
transaction or Spark job is in flight, so a test can kill it (SIGKILL) at a known
moment and check that nothing half-done became visible. Points:

- ``ingest``: raw articles and customers replaced, transactions not yet, uncommitted;
- ``spark``: a Spark job has written its first output to the lake;
- ``load``: the first Spark output is loaded into ``outputs``, uncommitted;
- ``publish``: the first published table is swapped, uncommitted.

This module imports only the standard library: a Spark job shipped to a cluster
carries it, and the orchestrator re-exports it as ``shopguide.faults``.
"""

from __future__ import annotations

import os
import sys
import time

ENV = "SHOPGUIDE_FAILPOINT"
POINTS = ("ingest", "spark", "load", "publish")
MARKER = "shopguide failpoint reached:"
# How long a failpoint waits to be killed before it gives up and fails the task.
WAIT_SECONDS = 600


def failpoint(name: str) -> None:
    """Stop here (until killed) when ``SHOPGUIDE_FAILPOINT`` is ``name``."""
    if os.environ.get(ENV) != name:
        return
    print(f"{MARKER} {name} (pid {os.getpid()})", file=sys.stderr, flush=True)
    time.sleep(WAIT_SECONDS)
    raise RuntimeError(f"failpoint {name} was not killed within {WAIT_SECONDS} s")
