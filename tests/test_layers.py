"""Issue 17: no import cycle between modules and no private name used across packages
(``python -m ecc.devtools.layers``), on small packages made here and on ``ecc`` itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest

import ecc
from ecc.devtools.layers import check, main, text


def package(root: Path, files: dict[str, str]) -> Path:
    """A package ``pkg`` under ``root`` with ``files`` (paths inside it: source); every
    folder gets an ``__init__.py``, empty unless given."""
    pkg = root / "pkg"
    for name, source in files.items():
        path = pkg / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(source))
    for folder in [pkg, *(p for p in pkg.rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()
    return pkg


def test_a_cycle_is_found_with_the_lines_that_close_it(tmp_path: Path) -> None:
    pkg = package(
        tmp_path,
        {
            "a.py": "from . import b\n",  # b is a module: an import of pkg.b, not of pkg
            "b.py": "import os\n\nfrom .c import C\n",
            "c.py": "from pkg.a import A\n",
            "d.py": "from . import a\n",  # imports the cycle, is no part of it
        },
    )
    report = check(pkg)
    [cycle] = report.cycles
    assert cycle.modules == ("pkg.a", "pkg.b", "pkg.c")
    assert cycle.path == ("pkg.a", "pkg.b", "pkg.c", "pkg.a")
    assert [(i.file, i.line, i.lazy) for i in cycle.imports] == [
        ("pkg/a.py", 1, False),
        ("pkg/b.py", 3, False),
        ("pkg/c.py", 1, False),
    ]
    assert not report.private
    out = text(report)
    assert "pkg.a → pkg.b → pkg.c → pkg.a" in out
    assert "pkg/b.py:3  from .c import C" in out


def test_a_lazy_import_inside_a_function_still_makes_a_cycle(tmp_path: Path) -> None:
    pkg = package(
        tmp_path,
        {
            "sub/a.py": "def f():\n    from ..b import g\n    return g\n",
            "b.py": "import pkg.sub.a as a\n",
        },
    )
    [cycle] = check(pkg).cycles
    assert cycle.modules == ("pkg.b", "pkg.sub.a")
    lazy = {(i.source, i.lazy) for i in cycle.imports}
    assert lazy == {("pkg.sub.a", True), ("pkg.b", False)}
    assert "(in a function)" in text(check(pkg))


def test_type_checking_imports_do_not_count(tmp_path: Path) -> None:
    pkg = package(
        tmp_path,
        {
            "a.py": """\
                from typing import TYPE_CHECKING
                import typing

                if TYPE_CHECKING:
                    from .b import B
                if typing.TYPE_CHECKING:
                    from pkg import b
                """,
            "b.py": "from .a import A\n",
        },
    )
    report = check(pkg)
    assert report.clean
    assert text(report) == "no import cycle, no private name across packages (3 modules)"


def test_a_package_importing_its_own_modules_is_no_cycle(tmp_path: Path) -> None:
    """…but a package's ``__init__`` is run by an import of any of its modules, so a
    module outside it that its ``__init__`` imports does close a cycle."""
    pkg = package(
        tmp_path,
        {
            "sub/__init__.py": "from .m import f\nNAME = 1\n",
            "sub/m.py": "from . import NAME\nfrom pkg.sub import n\n",
            "sub/n.py": "",
        },
    )
    assert check(pkg).clean
    (pkg / "sub" / "__init__.py").write_text("from ..x import g\n")
    (pkg / "x.py").write_text("from .sub.n import h\n")
    [cycle] = check(pkg).cycles
    assert cycle.modules == ("pkg.sub", "pkg.x")


def test_a_private_name_across_packages_is_found(tmp_path: Path) -> None:
    pkg = package(
        tmp_path,
        {
            "a/mod.py": "_x = 1\n_y = 2\n",
            "b/use.py": """\
                from pkg.a.mod import _x
                from ..a import mod
                import pkg.a.mod

                print(mod._y, pkg.a.mod._y, mod.__name__)
                """,
        },
    )
    report = check(pkg)
    assert not report.cycles
    assert [(p.file, p.line, p.owner, p.name) for p in report.private] == [
        ("pkg/b/use.py", 1, "pkg.a.mod", "_x"),
        ("pkg/b/use.py", 5, "pkg.a.mod", "_y"),
    ]  # the two uses on line 5 once
    assert "pkg/b/use.py:1  pkg.b.use uses pkg.a.mod._x: from pkg.a.mod import _x" in text(report)


def test_a_private_name_within_its_package_is_fine(tmp_path: Path) -> None:
    pkg = package(
        tmp_path,
        {
            "a/__init__.py": "from .mod import _x\n_z = 3\n",
            "a/mod.py": "_x = 1\n_y = 2\n",
            "a/other.py": "from .mod import _x, __doc__\nfrom . import mod, _z\nprint(mod._y)\n",
            "b.py": "from .a import mod\nprint(mod.__file__)\n",
        },
    )
    assert check(pkg).clean


def test_the_command_exits_1_with_findings_and_0_without(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pkg = package(tmp_path, {"a.py": "from .b import _f\n", "b.py": "def _f(): ...\n"})
    assert main([str(pkg)]) == 0  # the same package (folder)
    assert capsys.readouterr().out == (
        "no import cycle, no private name across packages (3 modules)\n"
    )
    (pkg / "b.py").write_text("import pkg.a\n\ndef _f(): ...\n")
    (pkg / "c").mkdir()
    (pkg / "c" / "__init__.py").write_text("from ..b import _f\n")
    assert main([str(pkg), "--json"]) == 1
    found = json.loads(capsys.readouterr().out)
    assert found["clean"] is False
    assert found["private"][0]["file"] == "pkg/c/__init__.py"
    assert found["cycles"][0]["modules"] == ["pkg.a", "pkg.b"]


def test_ecc_has_no_import_cycle_and_no_private_name_across_packages() -> None:
    report = check(Path(ecc.__file__).resolve().parent)
    assert report.modules > 100
    assert report.clean, text(report)


def test_it_runs_as_a_module_from_any_folder(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ecc.devtools.layers", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(done.stdout)
    assert report["package"] == "ecc"
    assert done.returncode == (0 if report["clean"] else 1)
