"""Export buttons on a dashboard: PDF and Excel of the current view, made in the
background while the page stays usable; a download link appears when the file is ready.

The files are made in the page's kernel from the page it shows (the same section a
report gets: no second kernel to start), and handed to the browser as a ``data:`` link,
so no file server or other host is involved.
"""

from __future__ import annotations

import base64
import logging
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import ipywidgets as widgets

from .components import esc

log = logging.getLogger("ecc.ui")

MIME = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
LABEL = {"pdf": "PDF", "xlsx": "Excel"}


class ExportBar:
    """Two buttons, a progress line and the download links of one dashboard."""

    def __init__(self, make: Callable[[str, Path], Path]) -> None:
        """``make(fmt, folder)`` writes the current view's file and returns its path."""
        self.make = make
        self.buttons = {
            fmt: widgets.Button(
                description=LABEL[fmt],
                icon="",
                tooltip=f"Download this view as {LABEL[fmt]}",
                layout=widgets.Layout(width="auto"),
            )
            for fmt in MIME
        }
        for fmt, button in self.buttons.items():
            button.on_click(lambda _b, fmt=fmt: self.start(fmt))
            button.add_class("ecc-export-button")
        self.progress = widgets.HTML()
        self.links = widgets.HTML()
        self.box = widgets.HBox(
            [
                widgets.HTML('<span class="ecc-export-label">Export</span>'),
                *self.buttons.values(),
                self.progress,
                self.links,
            ],
            layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
        )
        self.box.add_class("ecc-export")
        self.threads: list[threading.Thread] = []

    def start(self, fmt: str) -> threading.Thread:
        button = self.buttons[fmt]
        button.disabled = True
        self.progress.value = (
            f'<span class="ecc-progress" role="status">Preparing the {LABEL[fmt]}…</span>'
        )
        thread = threading.Thread(target=self._run, args=(fmt,), daemon=True)
        self.threads.append(thread)
        thread.start()
        return thread

    def _run(self, fmt: str) -> None:
        try:
            with tempfile.TemporaryDirectory() as tmp:
                path = self.make(fmt, Path(tmp))
                data = base64.b64encode(path.read_bytes()).decode()
                name = path.name
            link = (
                f'<a class="ecc-download" download="{esc(name)}" '
                f'href="data:{MIME[fmt]};base64,{data}">Download {esc(name)}</a>'
            )
            self.links.value = link + self._others(fmt)
            self.progress.value = ""
        except Exception as exc:  # a viewer sees a sentence, the log has the details
            log.exception("export failed")
            from ..errors import EccError

            reason = str(exc) if isinstance(exc, EccError) else "an unexpected error (logged)"
            self.progress.value = (
                f'<span class="ecc-error" role="alert">The {LABEL[fmt]} could not be made: '
                f"{esc(reason)}. Please try again.</span>"
            )
        finally:
            self.buttons[fmt].disabled = False

    def _others(self, fmt: str) -> str:
        """Keep the other format's link, if one was made for the same view."""
        kept = [
            part
            for part in self.links.value.split("</a>")
            if part and f"data:{MIME[fmt]}" not in part
        ]
        return "".join(p + "</a>" for p in kept)

    def clear(self) -> None:
        """The view changed: earlier files no longer match it."""
        self.links.value = ""
