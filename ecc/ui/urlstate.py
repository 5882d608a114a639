"""A hidden widget that mirrors the view to the page's query string and back.

Python → URL: setting ``state`` rewrites the query string (``pushState`` in mode "push",
``replaceState`` in "replace") without a reload. URL → Python: the back and forward
buttons (``popstate``) read the query string back into ``state`` and bump ``popped``.
The JavaScript is inlined: no CDN, no build step.
"""

from __future__ import annotations

from typing import Any

import anywidget
import traitlets

_ESM = r"""
function readUrl(keys) {
  const q = new URLSearchParams(window.location.search), out = {};
  for (const k of keys) if (q.has(k)) out[k] = q.get(k);
  return out;
}
function writeUrl(model, how) {
  const keys = model.get("url_keys"), state = model.get("state") || {};
  const q = new URLSearchParams(window.location.search);
  for (const k of keys) {
    const v = state[k];
    if (v === undefined || v === null || v === "") q.delete(k); else q.set(k, String(v));
  }
  const qs = q.toString();
  const url = window.location.pathname + (qs ? "?" + qs : "") + window.location.hash;
  if (url === window.location.pathname + window.location.search + window.location.hash) return;
  if (how === "push") history.pushState({ ecc: true }, "", url);
  else history.replaceState(history.state, "", url);
}
export default {
  initialize({ model }) {
    writeUrl(model, "replace");
    let fromPop = false;
    const onState = () => { if (!fromPop) writeUrl(model, model.get("mode")); };
    const onPop = () => {
      fromPop = true;
      try {
        model.set("state", readUrl(model.get("url_keys")));
        model.set("popped", (model.get("popped") || 0) + 1);
        model.save_changes();
      } finally { fromPop = false; }
    };
    const onNavigate = () => {
      const to = model.get("navigate");
      if (to) window.location.href = to;
    };
    model.on("change:state", onState);
    model.on("change:navigate", onNavigate);
    window.addEventListener("popstate", onPop);
    return () => {
      model.off("change:state", onState);
      model.off("change:navigate", onNavigate);
      window.removeEventListener("popstate", onPop);
    };
  },
  render({ el }) { el.style.display = "none"; },
};
"""


class UrlState(anywidget.AnyWidget):  # type: ignore[misc]
    """The view's parameters, kept equal to the page URL's query string."""

    _esm = _ESM
    url_keys = traitlets.List(traitlets.Unicode()).tag(sync=True)  # not "keys": taken by Widget
    state = traitlets.Dict().tag(sync=True)
    mode = traitlets.Unicode("push").tag(sync=True)
    popped = traitlets.Int(0).tag(sync=True)
    navigate = traitlets.Unicode("").tag(sync=True)

    def set_state(self, params: dict[str, str], *, push: bool) -> None:
        self.mode = "push" if push else "replace"
        self.state = dict(params)

    def go(self, url: str) -> Any:
        """Navigate the browser to ``url`` (a relative link to another page)."""
        self.navigate = url
