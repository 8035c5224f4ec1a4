"""queue_figures events: at most once a second per queue, and only when something changed."""

from __future__ import annotations

from vaxel.services.live_figures import QueueFigurePublisher


def test_a_queue_is_published_when_it_changed_and_at_most_once_a_second() -> None:
    p = QueueFigurePublisher(every=1.0)
    a1, b1 = {"queue": "a", "waiting": 1}, {"queue": "b", "waiting": 0}
    assert p.due({"a": a1, "b": b1}, 100.0) == [a1, b1]
    assert p.due({"a": a1, "b": b1}, 101.5) == []  # nothing changed
    a2 = {"queue": "a", "waiting": 2}
    assert p.due({"a": a2, "b": b1}, 101.6) == [a2]
    a3 = {"queue": "a", "waiting": 3}
    assert p.due({"a": a3, "b": b1}, 102.0) == []  # changed, but 0.4 s after the last
    assert p.due({"a": a3, "b": b1}, 102.6) == [a3]
