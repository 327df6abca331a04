"""The layout the architecture promises (issue 12), checked so that it stays true.

- no import circle among the modules of ``api/`` and ``graph/`` (a circle is how a newcomer gets
  lost: nothing can be read or changed on its own);
- no adapter module over ~400 lines;
- nothing above the adapters probes a store by attribute name (``getattr``/``hasattr`` on a store
  hides the call from mypy, so a rename would break it silently).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _modules(*packages: str) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


def _imports(path: Path, known: dict[str, Path]) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        out.update(n for n in names if n in known)
    return out


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_circle_in_api_or_graph() -> None:
    modules = _modules("api", "graph")
    edges = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    assert _circles(edges) == []


def test_the_circle_finder_finds_a_circle() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_adapter_module_is_over_about_400_lines() -> None:
    for path in [*(ROOT / "graph" / "duckdb").glob("*.py"), *(ROOT / "graph" / "neo4j").glob("*.py")]:
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= 420, f"{path.relative_to(ROOT)} has {lines} lines"


PROBE = re.compile(r"\b(?:getattr|hasattr|setattr)\(\s*[\w.]*store\b")


def test_nothing_above_the_adapters_probes_a_store_by_name() -> None:
    above = [p for package in ("api", "algorithms", "ingest", "queries")
             for p in (ROOT / package).rglob("*.py")]
    above += list((ROOT / "graph" / "serving").rglob("*.py"))
    probes = [f"{p.relative_to(ROOT)}:{n}" for p in above
              for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if PROBE.search(line)]
    assert probes == []
