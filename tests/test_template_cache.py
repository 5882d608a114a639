"""Issue 16: Voilà's templates compiled once per server (ecc/ui/template_cache.py)."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
from nbconvert.exporters.templateexporter import TemplateExporter
from voila.exporter import VoilaExporter

from ecc.ui import template_cache


def _exporter(paths: list[str]) -> VoilaExporter:
    return VoilaExporter(template_paths=paths, template_name="ecc", base_url="/")


def test_a_second_page_view_compiles_no_template_and_an_edit_compiles_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        TemplateExporter, "_create_environment", TemplateExporter._create_environment
    )
    compiled: list[str | None] = []
    compile_ = jinja2.Environment._compile

    def counting(self: jinja2.Environment, source: str, filename: str) -> object:
        compiled.append(filename)
        return compile_(self, source, filename)

    monkeypatch.setattr(jinja2.Environment, "_compile", counting)
    folder = tmp_path / "ecc"
    folder.mkdir()
    (folder / "base.html.j2").write_text("<p>{% block body %}{% endblock %}</p>")
    (folder / "page.html.j2").write_text(
        "{% extends 'base.html.j2' %}{% block body %}{{ name | upper }}{% endblock %}"
    )
    paths = [str(folder)]
    cache = template_cache.SharedBytecode()
    template_cache.install(template_cache.SharedBytecode())
    template_cache.install(cache)  # a second install replaces the first, not wraps it

    first = _exporter(paths).environment.get_template("page.html.j2")
    assert first.render(name="arr") == "<p>ARR</p>"
    assert len(compiled) == 2 and len(cache) == 2  # the page and its base

    compiled.clear()
    second = _exporter(paths).environment  # another page view's exporter
    assert second.bytecode_cache is cache
    assert second.get_template("page.html.j2").render(name="nrr") == "<p>NRR</p>"
    assert compiled == []

    (folder / "base.html.j2").write_text("<div>{% block body %}{% endblock %}</div>")
    third = _exporter(paths).environment.get_template("page.html.j2")
    assert third.render(name="grr") == "<div>GRR</div>"
    assert [Path(str(f)).name for f in compiled] == ["base.html.j2"]
