"""A page asks whether its server still holds its stream: yes while it is sent and
after, no when another server (a lost replica's) sent it; one question at a time."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable

from tornado import web

from ecc.ui.liveness import Streams
from tests.support.servers import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port, need_chromium


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


def _watcher_script() -> str:
    """The template's script that asks whether the server still holds the page."""
    template = (ROOT / "ecc/ui/voila_files/voila/templates/ecc/index.html.j2").read_text()
    scripts = re.findall(r"<script>.*?</script>", template, flags=re.S)
    (watcher,) = [s for s in scripts if "window.ecc_watch_stream =" in s]
    assert "{{" not in watcher and "{%" not in watcher
    return watcher


class _Server:
    """A page that never finishes loading (its stream held open) and a liveness route
    that never answers: how many questions the page has out at once."""

    def __init__(self) -> None:
        self.asked = 0
        self.out = 0
        self.most_out = 0
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.port = free_port()
        self.done: asyncio.Event | None = None
        server = self

        class Page(web.RequestHandler):
            async def get(self) -> None:
                assert server.done is not None
                self.write(
                    "<!doctype html><html lang='en'><head><title>held</title></head><body>"
                    f"{_watcher_script()}<script>ecc_watch_stream('/alive')</script><p>numbers</p>"
                )
                await self.flush()
                await server.done.wait()  # the rest of the page never comes

        class Alive(web.RequestHandler):
            async def get(self) -> None:
                with server.lock:
                    server.asked += 1
                    server.out += 1
                    server.most_out = max(server.most_out, server.out)
                assert server.done is not None
                await server.done.wait()  # a busy server: no answer

            def on_connection_close(self) -> None:
                with server.lock:
                    server.out -= 1

        class Other(web.RequestHandler):
            def get(self) -> None:
                self.write("<!doctype html><title>next</title><p>next page</p>")

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.done = asyncio.Event()
            app = web.Application([("/page", Page), ("/alive", Alive), ("/next", Other)])
            app.listen(self.port, "127.0.0.1")
            started.set()
            self.loop.run_forever()

        started = threading.Event()
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert started.wait(10)

    def stop(self) -> None:
        assert self.done is not None
        self.loop.call_soon_threadsafe(self.done.set)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def _until(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_a_loading_page_asks_one_question_at_a_time_and_none_once_left() -> None:
    """A page still loading asks every 5 s whether its server holds it; on a busy server
    unanswered questions piled up and took the browser's six connections, so the next
    page's request waited for one. One question out at most, given up after 4 s; leaving
    the page cancels it."""
    from playwright.sync_api import sync_playwright

    need_chromium()
    server = _Server()
    base = f"http://127.0.0.1:{server.port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(f"{base}/page", wait_until="commit")
                page.wait_for_selector("text=numbers")
                # three questions: the first two got no answer in 4 s each
                assert _until(lambda: server.asked >= 3, 30), server.asked
                assert server.most_out == 1
                assert server.out == 1 or _until(lambda: server.out == 1, 6)
                page.goto(f"{base}/next")
                # the one out is cancelled as the page is left, not 4 s later
                assert _until(lambda: server.out == 0, 2), server.out
                assert page.inner_text("p") == "next page"
            finally:
                browser.close()
    finally:
        server.stop()
