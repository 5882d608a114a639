"""A hidden widget that mirrors the view to the page's query string and back.

Python → URL: setting ``state`` rewrites the query string (``pushState`` in mode "push",
``replaceState`` in "replace") without a reload. Back and forward (``popstate``) to
another view reload the page, which then shows the view its URL names; a move within the
page (a fragment link) does not.
The JavaScript is inlined: no CDN, no build step.
"""

from __future__ import annotations

from typing import Any

import anywidget
import traitlets

_ESM = r"""
// the query string of the view on screen: a fragment link ("Skip to the numbers") moves
// in the page without changing it, and must not reload
let shown = window.location.search;
function writeUrl(model, how) {
  const keys = model.get("url_keys"), state = model.get("state") || {};
  const q = new URLSearchParams(window.location.search);
  for (const k of keys) {
    const v = state[k];
    if (v === undefined || v === null || v === "") q.delete(k); else q.set(k, String(v));
  }
  const qs = q.toString();
  const url = window.location.pathname + (qs ? "?" + qs : "") + window.location.hash;
  shown = qs ? "?" + qs : "";
  if (url === window.location.pathname + window.location.search + window.location.hash) return;
  if (how === "push") history.pushState({ ecc: true }, "", url);
  else history.replaceState(history.state, "", url);
}
export default {
  initialize({ model }) {
    writeUrl(model, "replace");
    const onState = () => writeUrl(model, model.get("mode"));
    const onNavigate = () => {
      const to = model.get("navigate");
      if (to) window.location.href = to;
    };
    model.on("change:state", onState);
    model.on("change:navigate", onNavigate);
    return () => {
      model.off("change:state", onState);
      model.off("change:navigate", onNavigate);
    };
  },
  // Back and forward: the URL is the view, so show the view it names. (Sending the new
  // state to the kernel from here did not reach it under Voilà 0.5 with anywidget 0.11;
  // reloading is a preheated page load, about two seconds.)
  render({ el }) {
    el.style.display = "none";
    const onPop = () => {
      if (window.location.search !== shown) window.location.reload();
    };
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  },
};
"""


class UrlState(anywidget.AnyWidget):  # type: ignore[misc]
    """The view's parameters, kept equal to the page URL's query string."""

    _esm = _ESM
    url_keys = traitlets.List(traitlets.Unicode()).tag(sync=True)  # not "keys": taken by Widget
    state = traitlets.Dict().tag(sync=True)
    mode = traitlets.Unicode("push").tag(sync=True)
    navigate = traitlets.Unicode("").tag(sync=True)

    def set_state(self, params: dict[str, str], *, push: bool) -> None:
        self.mode = "push" if push else "replace"
        self.state = dict(params)

    def go(self, url: str) -> Any:
        """Navigate the browser to ``url`` (a relative link to another page)."""
        self.navigate = url
