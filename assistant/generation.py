"""Turns and index switches: any number of turns run at once on the current generation;
a switch to a new one waits until the turns under way have finished, and turns that
arrive meanwhile wait for the switch (a few attribute assignments)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class GenerationGate:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0
        self._switching = False

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._cond:
            while self._switching:
                self._cond.wait()
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    @contextmanager
    def switch(self) -> Iterator[None]:
        """Never called from inside `turn()` (it would wait for itself)."""
        with self._cond:
            while self._switching:
                self._cond.wait()
            self._switching = True
            while self._active:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._switching = False
                self._cond.notify_all()
