"""Imports run one way (docs/architecture.md): every module's imports, read with `ast` (lazy
imports inside functions included), against the documented layers, and no import circle
between modules or between packages."""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. A module may import its own package and the packages of lower layers; packages
# of one layer never import each other. `deflect` is the composing layer (deflect.core aside).
LAYERS: list[tuple[str, ...]] = [
    ("deflect.core",),
    ("schemas",),
    ("ingestion",),
    ("adapters",),
    ("transforms", "warehouse", "generator"),
    ("stewardship", "publication"),
    ("deflect",),
    ("dags", "workbench"),
]
RANK = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}
# Development code may import anything; production code never imports it.
DEVELOPMENT = ("devtools", "bench", "tests", "scripts")
# DAG files call only the composing layer (and their shared module).
DAGS_MAY_IMPORT = ("deflect",)


def package_of(module: str) -> str | None:
    if module == "deflect.core" or module.startswith("deflect.core."):
        return "deflect.core"
    top = module.split(".")[0]
    if top == "deflect_common":
        return "dags"
    if top in RANK or top in DEVELOPMENT:
        return top
    return None  # not the project's


def project_modules() -> dict[str, Path]:
    found = {}
    for top in [p for layer in LAYERS for p in layer if "." not in p] + ["devtools", "bench"]:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if top == "dags":
                parts = ["dags", *parts[1:]]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = project_modules()


def imports_of(module: str, path: Path) -> set[str]:
    """Every project module `module` imports, resolved to a module of MODULES where possible."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    out = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            names = [f"{stem}.{a.name}" if f"{stem}.{a.name}" in MODULES else stem
                     for a in node.names]
        for name in names:
            if name == "deflect_common":
                name = "dags.deflect_common"
            if package_of(name) is not None:
                out.add(name)
    return out


GRAPH = {m: imports_of(m, p) for m, p in MODULES.items()}


def _allowed(src_pkg: str, dst_pkg: str) -> bool:
    if src_pkg == dst_pkg or src_pkg in DEVELOPMENT:
        return True
    if dst_pkg in DEVELOPMENT:
        return False
    if src_pkg == "dags":
        return dst_pkg in DAGS_MAY_IMPORT
    return RANK[dst_pkg] < RANK[src_pkg]


def test_every_import_runs_down_the_layers():
    wrong = sorted(
        f"{m} imports {t}"
        for m, targets in GRAPH.items() for t in targets
        if not _allowed(package_of(m), package_of(t))
    )
    assert wrong == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), as sorted lists."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _module_graph() -> dict[str, set[str]]:
    # a package's __init__ re-exporting its own modules is not a circle of the design
    return {m: {t for t in targets if t in MODULES and m != t.rsplit(".", 1)[0]}
            for m, targets in GRAPH.items()}


def test_no_import_circle_between_modules():
    assert _cycles(_module_graph()) == []


def test_no_import_circle_between_packages():
    packages: dict[str, set[str]] = defaultdict(set)
    for m, targets in GRAPH.items():
        for t in targets:
            a, b = package_of(m), package_of(t)
            if a != b:
                packages[a].add(b)
    assert _cycles(packages) == []


def test_the_ground_layer_imports_nothing_of_the_project():
    ground = {m: t for m, t in GRAPH.items() if package_of(m) == "deflect.core"}
    assert ground, "deflect.core has no modules?"
    assert {m: sorted(x for x in t if package_of(x) != "deflect.core")
            for m, t in ground.items() if any(package_of(x) != "deflect.core" for x in t)} == {}


@pytest.mark.parametrize("src, dst, ok", [
    ("warehouse", "transforms", False), ("ingestion", "adapters", False),
    ("stewardship", "deflect", False), ("deflect", "stewardship", True),
    ("dags", "deflect.core", False), ("dags", "deflect", True), ("adapters", "ingestion", True),
    ("deflect", "devtools", False), ("tests", "devtools", True),
])
def test_the_rule_itself(src, dst, ok):
    assert _allowed(src, dst) is ok


def test_the_checker_sees_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
