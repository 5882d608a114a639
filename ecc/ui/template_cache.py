"""Voilà's page templates compiled once per server, not once per page view.

Voilà renders every page, and every preheated kernel's page, with an nbconvert exporter
of its own, and each exporter builds a new Jinja environment that parses and compiles
the template chain (the ``ecc`` template, Voilà's ``lab`` and nbconvert's bases) again:
a few hundred milliseconds of the server's event loop per kernel start, during which
no viewer's first paint is sent. :func:`install` gives every such environment the
server's one :class:`SharedBytecode`: a template is compiled the first time, and later
environments load its code (checked against the template's source, so an edited
template is compiled again).
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from jinja2 import BytecodeCache
from jinja2.bccache import Bucket


class SharedBytecode(BytecodeCache):
    """Compiled templates kept in memory, for every Jinja environment of the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        with self._lock:
            code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)  # ignored when the source's checksum changed

    def dump_bytecode(self, bucket: Bucket) -> None:
        code = bucket.bytecode_to_string()
        with self._lock:
            self._code[bucket.key] = code

    def clear(self) -> None:
        with self._lock:
            self._code.clear()

    def __len__(self) -> int:
        return len(self._code)


def install(cache: SharedBytecode) -> None:
    """Make every nbconvert exporter's Jinja environment (Voilà's among them) of this
    process use ``cache``. Called once by the dashboards server's entry point; calling
    it again replaces the cache."""
    from nbconvert.exporters.templateexporter import TemplateExporter

    original = TemplateExporter._create_environment
    original = getattr(original, "__wrapped__", original)  # installed before: replaced

    @functools.wraps(original)
    def with_cache(exporter: Any) -> Any:
        environment = original(exporter)
        environment.bytecode_cache = cache
        return environment

    TemplateExporter._create_environment = with_cache
