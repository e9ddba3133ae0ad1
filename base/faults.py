"""Fault injection for the crash tests: `AISLE_FAULT_AT=<point>` stops the process at that
point as a power cut or `kill -9` would (SIGKILL), or, with `AISLE_FAULT_MODE=raise`, raises
`SimulatedCrash` so a test can crash an ingest in its own process many times over. Unset, a
point costs one lookup."""

from __future__ import annotations

import os
import signal

# the points an ingest passes, in order
POINTS = (
    "embedded",
    "pending-marked",
    "chroma-written",
    "vectors-written",
    "generation-written",
    "switched",
    "done",
)


class SimulatedCrash(BaseException):  # noqa: N818 - not an error a caller should handle
    """Raised at a fault point: a BaseException, so no `except Exception` swallows it."""


def fault_point(name: str) -> None:
    if os.environ.get("AISLE_FAULT_AT") != name:
        return
    if os.environ.get("AISLE_FAULT_MODE") == "raise":
        raise SimulatedCrash(name)
    os.kill(os.getpid(), signal.SIGKILL)
