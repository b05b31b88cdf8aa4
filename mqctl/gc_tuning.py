"""Every tuning of Python's cyclic garbage collector, with the measurement behind it.

mqctl's objects are freed by reference counting; the cyclic collector only has to find
cycles, of which a run makes few. Its default thresholds (a pass every 700 allocations) made
it rescan large live sets over and over: ~15 % of a large `lag`, ~20 % of a long peek or
publish, a visible stall per TUI refresh (docs/benchmarks.md, "Start-up" and "Lag at scale").
Imports nothing but the standard library's ``gc`` and ``contextlib``: ``mqctl`` loads it first.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


def for_a_command() -> None:
    """A CLI run allocates a few hundred thousand objects that live until it ends (modules,
    classes, the answer's rows): at the default threshold the collector ran ~185 times per
    `mqctl lag --all-groups` and rescanned them. Cycles are still collected, in rarer, larger
    passes."""
    gc.set_threshold(100_000, 10, 10)


def before_exit() -> None:
    """On the way out every object is still alive (modules, the answer): the interpreter's
    last collection would walk them all, ~20 ms after a `lag --all-groups`. Frozen ones are
    skipped; they are freed all the same (mqctl keeps no file open in a cycle)."""
    gc.freeze()


def for_a_dashboard() -> None:
    """A TUI holds thousands of table rows and each refresh allocates tens of thousands of
    short-lived ones: at 5,000 queues a full collection ran about every refresh, ~0.15 s each.
    Collecting the young generation every 50,000 allocations makes full collections rare;
    objects alive now (modules, classes, Textual's machinery) live as long as the process and
    are moved out of the collector's sight."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)


@contextlib.contextmanager
def few_collections() -> Iterator[None]:
    """Fewer passes during a long peek or publish: they allocate several objects per message
    and keep a batch's worth alive, so the default thresholds collect often over a large live
    set. Objects that exist before (modules, config) are not scanned at all meanwhile."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], 50_000), max(threshold[1], 20), max(threshold[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


@contextlib.contextmanager
def collections_paused() -> Iterator[None]:
    """No passes while a lag snapshot builds its answer: decoded responses and one row per
    group-partition are many young objects and no cycles; at 30,000 group-partitions the
    passes over them were ~20 % of the snapshot's CPU time. Collection resumes afterwards;
    when snapshots overlap (a fleet's contexts), the first to finish turns it back on, which
    is only less fast."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
