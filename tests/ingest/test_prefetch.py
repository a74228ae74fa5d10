from __future__ import annotations

import threading

import pytest

from retain.ingest.prefetch import prefetch


def test_items_arrive_in_order_and_are_produced_on_another_thread():
    producers = set()

    def items():
        for i in range(50):
            producers.add(threading.current_thread().name)
            yield i

    assert list(prefetch(items(), depth=2)) == list(range(50))
    assert producers == {"retain-prefetch"}


def test_an_error_while_producing_reaches_the_consumer_after_the_good_items():
    def items():
        yield 1
        yield 2
        raise ValueError("bad block")

    got = []
    with pytest.raises(ValueError, match="bad block"):
        for item in prefetch(items()):
            got.append(item)
    assert got == [1, 2]


def test_consumer_stopping_early_stops_the_producer():
    produced = []

    def items():
        for i in range(1_000):
            produced.append(i)
            yield i

    for item in prefetch(items(), depth=1):
        if item == 3:
            break
    assert len(produced) <= 6
