"""A page asks whether its server still holds its stream: yes while it is sent and
after, no when another server (a lost replica's) sent it."""

from __future__ import annotations

from ecc.ui.liveness import Streams


def test_a_stream_is_held_while_sent_and_after() -> None:
    streams = Streams()
    stream = streams.open()
    assert stream in streams
    # sent in full: a browser still reading the end (a slow script) is not lost
    streams.close(stream)
    assert stream in streams
    assert "sent-by-another-server" not in streams


def test_only_the_last_sent_streams_are_remembered() -> None:
    streams = Streams()
    streams.KEEP = 3
    sent = [streams.open() for _ in range(5)]
    for stream in sent:
        streams.close(stream)
    assert [s in streams for s in sent] == [False, False, True, True, True]
