"""The daemon's settings for Python's cyclic garbage collector, applied once it has started."""

from __future__ import annotations

import gc

from notifierd.daemon import YOUNG_OBJECTS_PER_COLLECTION, settle_collector


def test_a_started_daemon_freezes_what_it_built_and_scans_young_objects_less_often() -> None:
    before = gc.get_threshold()
    built = [[n] for n in range(1000)]  # containers, as a daemon's start builds
    try:
        settle_collector()
        assert gc.get_threshold()[0] == YOUNG_OBJECTS_PER_COLLECTION > before[0]
        assert gc.get_threshold()[1:] == before[1:]
        assert gc.get_freeze_count() >= len(built)
        tracked = {id(obj) for obj in gc.get_objects()}
        assert not any(id(obj) in tracked for obj in built)  # frozen: out of every scan
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
