"""No import circles among the recorder, sealing and replication apps (STYLE: no import circles).

The graph is read from the source with ``ast``: module-level imports only (an import inside a
function runs late, on purpose, and does not bind the modules at load time)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
WATCHED = ("taspa.recorder", "taspa.sealing", "taspa.replication")


def _module(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in tree.body:  # module level only
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in SRC.joinpath("taspa").rglob("*.py")}
    known = set(files)
    return {name: _imports(path, name, known) for name, path in files.items()}


def cycles(graph: dict[str, set[str]], among: tuple[str, ...]) -> list[list[str]]:
    """Every elementary circle through the watched modules (one per set of members)."""
    watched = {n for n in graph if n.startswith(among)}
    found: dict[frozenset[str], list[str]] = {}

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(graph[node] & watched):
            if nxt == start:
                found.setdefault(frozenset(path), [*path, start])
            elif nxt not in path and nxt > start:
                walk(start, nxt, [*path, nxt])

    for start in sorted(watched):
        walk(start, start, [start])
    return list(found.values())


def test_the_graph_sees_module_level_imports_only() -> None:
    graph = import_graph()
    assert "taspa.recorder.models" in graph["taspa.recorder.actions"]
    assert "taspa.recorder.actions" in graph["taspa.recorder.remote"]
    # recorder.selectors imports the engine's runtime inside a function only
    assert "taspa.recorder.runtime" not in graph["taspa.recorder.selectors"]


def test_cycles_are_found_when_there_are_some() -> None:
    graph = {"taspa.recorder.a": {"taspa.recorder.b"}, "taspa.recorder.b": {"taspa.recorder.a"}}
    assert cycles(graph, WATCHED) == [["taspa.recorder.a", "taspa.recorder.b", "taspa.recorder.a"]]


def test_no_import_circle_in_recorder_sealing_and_replication() -> None:
    found = cycles(import_graph(), WATCHED)
    assert not found, "\n".join(" -> ".join(circle) for circle in found)
