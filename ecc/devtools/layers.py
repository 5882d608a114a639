"""``python -m ecc.devtools.layers``: no import cycle, no private name across packages.

Every module of the package is parsed (not imported) and each import of one of its
modules is read, at module level and inside functions (a lazy import still makes a cycle
for the reader to untangle); imports under ``if TYPE_CHECKING:`` never run and do not
count. It reports:

- **import cycles**: modules that import each other, directly or through others (the
  strongly connected components of the import graph), with one cycle through them and
  every import line between them. An import of ``a.b.c`` also runs the packages ``a.b``
  and ``a``, so it counts as an import of those too, except of the importer's own
  packages: Python has started those before the importer, so a package's
  ``__init__`` importing its own modules, which import from it, is no cycle.
- **private names across packages**: ``from ecc.a.b import _x``, or ``b._x`` of an
  imported module ``b``, in a module outside the package (folder) of ``ecc/a/b.py``.
  A private name is one with a leading underscore that is not a dunder.

Exit status 0 when there is neither, 1 with the findings (``--json`` prints them as
JSON). Only the standard library: it runs wherever the package is installed.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path

import ecc


@dataclass(frozen=True)
class Import:
    """One module importing another, where it does so."""

    source: str
    target: str
    file: str
    line: int
    lazy: bool  # inside a function: runs when it is called, not on import
    code: str


@dataclass(frozen=True)
class PrivateUse:
    """A private name of ``owner`` (``owner.name``) used by ``source`` in another package."""

    source: str
    owner: str
    name: str
    file: str
    line: int
    code: str


@dataclass(frozen=True)
class Cycle:
    """Modules that import each other: all of them, one cycle through them (first module
    repeated at the end), and every import between them."""

    modules: tuple[str, ...]
    path: tuple[str, ...]
    imports: tuple[Import, ...]


@dataclass(frozen=True)
class Report:
    package: str
    modules: int
    cycles: tuple[Cycle, ...]
    private: tuple[PrivateUse, ...]

    @property
    def clean(self) -> bool:
        return not self.cycles and not self.private


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool

    @property
    def package(self) -> str:
        """The package (folder) the module's file is in."""
        return self.name if self.is_package else self.name.rpartition(".")[0]


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def find_modules(package_dir: Path) -> dict[str, Module]:
    """Every module of the package in ``package_dir``, by dotted name: the ``.py`` files
    of it and of its subfolders that are packages (that hold an ``__init__.py``)."""
    found: dict[str, Module] = {}

    def walk(folder: Path, prefix: str) -> None:
        for path in sorted(folder.iterdir()):
            if path.is_dir():
                if path.name.isidentifier() and (path / "__init__.py").is_file():
                    walk(path, f"{prefix}.{path.name}")
            elif path.suffix == ".py" and path.stem.isidentifier():
                if path.stem == "__init__":
                    found[prefix] = Module(prefix, path, is_package=True)
                else:
                    name = f"{prefix}.{path.stem}"
                    found[name] = Module(name, path, is_package=False)

    walk(package_dir, package_dir.name)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


class _Reader(ast.NodeVisitor):
    """The imports of one module (edges of the graph), the names it binds to package
    modules, and the private names it imports across packages."""

    def __init__(self, module: Module, modules: dict[str, Module], file: str, source: str):
        self.module = module
        self.modules = modules
        self.root = next(iter(modules)).partition(".")[0]
        self.file = file
        self.lines = source.splitlines()
        self.depth = 0
        self.imports: list[Import] = []
        self.private: list[PrivateUse] = []
        self.bound: dict[str, str] = {}  # a name in this module -> the module it is

    # --- where an import stands ---

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._in_function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._in_function(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._in_function(node)

    def _in_function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    # --- what it imports ---

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not _within(alias.name, self.root):
                continue
            self._edge(alias.name, node)
            self._private_in_path(alias.name, node)
            if alias.asname:
                if alias.name in self.modules:
                    self.bound[alias.asname] = alias.name
            else:
                self.bound[alias.name.partition(".")[0]] = self.root

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = self._absolute(node)
        if base is None or not _within(base, self.root):
            return
        self._private_in_path(base, node)
        owner = self.modules.get(base)
        folder = owner.package if owner is not None else base
        for alias in node.names:
            full = f"{base}.{alias.name}"
            if full in self.modules:
                self._edge(full, node)
                self.bound[alias.asname or alias.name] = full
            else:
                self._edge(base, node)
            if alias.name != "*" and is_private(alias.name):
                self._check_private(base, folder, alias.name, node)

    def _absolute(self, node: ast.ImportFrom) -> str | None:
        """The module ``from … import`` reads from, relative imports resolved."""
        if node.level == 0:
            return node.module
        parts = self.module.package.split(".")
        if node.level - 1 >= len(parts):
            return None  # above the top of the package
        base = ".".join(parts[: len(parts) - (node.level - 1)])
        return f"{base}.{node.module}" if node.module else base

    def _edge(self, target: str, node: ast.stmt) -> None:
        """``target`` (or, not a module, the nearest package of it) and the packages that
        hold it, save the importer's own: those have started before it runs."""
        parts = target.split(".")
        for n in range(len(parts), 0, -1):
            name = ".".join(parts[:n])
            if name in self.modules and not _within(self.module.name, name):
                lazy = self.depth > 0
                self.imports.append(
                    Import(self.module.name, name, self.file, node.lineno, lazy, self._code(node))
                )

    def _private_in_path(self, dotted: str, node: ast.stmt) -> None:
        """Private parts of a module path (``ecc.a._b.c``)."""
        parts = dotted.split(".")
        for n in range(1, len(parts)):
            if is_private(parts[n]):
                folder = ".".join(parts[:n])
                self._check_private(folder, folder, parts[n], node)

    def _check_private(self, owner: str, folder: str, name: str, node: ast.stmt | ast.expr) -> None:
        """``owner.name`` (defined in the package ``folder``) used here: fine from the
        same package, or from inside ``owner.name`` itself (a private package)."""
        if self.module.package == folder or _within(self.module.name, f"{owner}.{name}"):
            return
        self.private.append(
            PrivateUse(self.module.name, owner, name, self.file, node.lineno, self._code(node))
        )

    # --- private attributes of imported modules (a second pass, all bindings known) ---

    def attributes(self, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and is_private(node.attr):
                owner = self._module_of(node.value)
                if owner is not None:
                    self._check_private(owner, self.modules[owner].package, node.attr, node)

    def _module_of(self, expr: ast.expr) -> str | None:
        if isinstance(expr, ast.Name):
            return self.bound.get(expr.id)
        if isinstance(expr, ast.Attribute):
            base = self._module_of(expr.value)
            if base is not None and f"{base}.{expr.attr}" in self.modules:
                return f"{base}.{expr.attr}"
        return None

    def _code(self, node: ast.stmt | ast.expr) -> str:
        """The lines ``node`` stands on, on one line."""
        end = node.end_lineno or node.lineno
        return " ".join(" ".join(self.lines[node.lineno - 1 : end]).split())


def read(package_dir: Path) -> tuple[dict[str, Module], list[Import], list[PrivateUse]]:
    """The modules of the package, their imports of each other and private uses."""
    modules = find_modules(package_dir)
    imports: list[Import] = []
    private: list[PrivateUse] = []
    for module in modules.values():
        source = module.path.read_text(encoding="utf-8")
        tree = ast.parse(source, filename=str(module.path))
        file = module.path.relative_to(package_dir.parent).as_posix()
        reader = _Reader(module, modules, file, source)
        reader.visit(tree)
        reader.attributes(tree)
        imports += dict.fromkeys(reader.imports)  # once per line, however many names
        private += reader.private
    return modules, imports, private


def components(graph: dict[str, set[str]]) -> Iterator[list[str]]:
    """The strongly connected components of ``graph`` (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                yield sorted(component)


def shortest_cycle(graph: dict[str, set[str]], members: Sequence[str]) -> tuple[str, ...]:
    """A shortest cycle through the first of ``members``, within them."""
    start, inside = members[0], set(members)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph[node] & inside):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return (*reversed(path), start)
            if child not in came_from:
                came_from[child] = node
                queue.append(child)
    return (start,)  # not reached: every member of a component lies on a cycle


def check(package_dir: Path) -> Report:
    """Import cycles and private names across packages in the package at ``package_dir``."""
    package_dir = package_dir.resolve()
    modules, imports, private = read(package_dir)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for imp in imports:
        graph[imp.source].add(imp.target)
    cycles = []
    for members in components(graph):
        if len(members) > 1:
            inside = set(members)
            between = [i for i in imports if i.source in inside and i.target in inside]
            cycles.append(
                Cycle(
                    tuple(members),
                    shortest_cycle(graph, members),
                    tuple(sorted(between, key=lambda i: (i.file, i.line, i.target))),
                )
            )
    return Report(
        package_dir.name,
        len(modules),
        tuple(sorted(cycles, key=lambda c: c.modules)),
        tuple(sorted(set(private), key=lambda p: (p.file, p.line, p.name))),
    )


def text(report: Report) -> str:
    if report.clean:
        return f"no import cycle, no private name across packages ({report.modules} modules)"
    lines = []
    if report.cycles:
        lines.append(f"import cycles: {len(report.cycles)}")
        for n, cycle in enumerate(report.cycles, 1):
            lines.append(f"  {n}. {' → '.join(cycle.path)}")
            steps = list(pairwise(cycle.path))
            shown = [i for i in cycle.imports if (i.source, i.target) in steps]
            for imp in sorted(shown, key=lambda i: steps.index((i.source, i.target))):
                lazy = "  (in a function)" if imp.lazy else ""
                lines.append(f"     {imp.file}:{imp.line}  {imp.code}{lazy}")
            if len(cycle.modules) > len(steps):
                lines.append(
                    f"     in a knot of {len(cycle.modules)} modules: {', '.join(cycle.modules)}"
                    f" ({len(cycle.imports) - len(shown)} more imports between them: --json)"
                )
    if report.private:
        lines.append(f"private names used across packages: {len(report.private)}")
        for use in report.private:
            lines.append(
                f"  {use.file}:{use.line}  {use.source} uses {use.owner}.{use.name}: {use.code}"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ecc.devtools.layers",
        description="No import cycle between modules, no private name used across packages.",
    )
    parser.add_argument(
        "package",
        nargs="?",
        type=Path,
        default=Path(ecc.__file__).resolve().parent,
        help="the package's folder (default: the ecc package this runs from)",
    )
    parser.add_argument("--json", action="store_true", help="the findings as JSON")
    args = parser.parse_args(argv)
    report = check(args.package)
    if args.json:
        print(json.dumps({**asdict(report), "clean": report.clean}, indent=2))
    else:
        print(text(report))
    return 0 if report.clean else 1


if __name__ == "__main__":
    sys.exit(main())
