"""An instance's heap is frozen out of the cyclic collector once, at its second invocation."""

from __future__ import annotations

import gc
import itertools

import shared.runtime.handler as handler


def test_the_second_invocation_freezes_the_heap_once(monkeypatch):
    monkeypatch.setattr(handler, "_invocations", itertools.count(1))
    gc.unfreeze()
    try:
        first = handler.settle_heap()
        assert first is False and gc.get_freeze_count() == 0  # a cold start pays nothing
        assert handler.settle_heap() is True
        frozen = gc.get_freeze_count()
        assert frozen > 1000  # the modules and everything the first invocation left
        assert [handler.settle_heap() for _ in range(3)] == [False, False, False]
        assert gc.get_freeze_count() <= frozen  # once (frozen objects may still be freed by refcount)
    finally:
        gc.unfreeze()


def test_garbage_made_after_the_freeze_is_still_collected(monkeypatch):
    monkeypatch.setattr(handler, "_invocations", itertools.count(2))
    gc.unfreeze()
    try:
        assert handler.settle_heap() is True

        class Node:
            pass

        import weakref

        node = Node()
        node.self = node  # a cycle: only the collector frees it
        alive = weakref.ref(node)
        del node
        gc.collect()
        assert alive() is None
    finally:
        gc.unfreeze()
