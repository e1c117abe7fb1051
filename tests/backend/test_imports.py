"""The backend's modules form no import cycle, type-only imports included (a shared type lives
in a leaf module, or as a Protocol where it is used)."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[2] / "backend"


def module_names() -> dict[str, Path]:
    names = {}
    for path in BACKEND.rglob("*.py"):
        parts = path.relative_to(BACKEND.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The backend modules `name` imports anywhere (functions and TYPE_CHECKING blocks too)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parent = package[: len(package) - node.level + 1]
                module = ".".join([*parent, module] if module else parent)
            candidates = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in known:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                found.add(candidate)
    return found


def test_no_backend_module_imports_itself_through_others() -> None:
    known = module_names()
    graph = {name: imported(name, path, known) for name, path in known.items()}
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as cycle:
        raise AssertionError(f"import cycle: {' -> '.join(cycle.args[1])}") from None
