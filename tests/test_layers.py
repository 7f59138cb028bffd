"""The package's import graph, built from the source: no cycles, and no import against the layer order

    base (errors, io, config, registry, devices, dist, images, ...) -> data -> zoo -> train -> metrics -> bench
    -> human -> cli

Every import counts, at module level or inside a function (a lazy import is still a dependency).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "ganbench"
#: Layer of each top-level part of the package; anything not listed is a shared helper of the base layer.
LAYERS = {"data": 1, "zoo": 2, "train": 3, "metrics": 4, "bench": 5, "human": 6, "cli": 7, "__init__": 7}
LAYER_NAMES = ["base", "data", "zoo", "train", "metrics", "bench", "human", "cli"]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in ROOT.rglob("*.py")}


def layer(mod: str) -> int:
    parts = mod.split(".")
    return LAYERS["__init__"] if len(parts) == 1 else LAYERS.get(parts[1], 0)


def imports(mod: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The ganbench modules ``mod`` imports (a package import counts as its ``__init__``)."""
    is_pkg = path.name == "__init__.py"
    package = mod.split(".") if is_pkg else mod.split(".")[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "ganbench"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "ganbench":
                continue
            for alias in node.names:  # `from pkg import module` imports the module itself
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in known else target)
    return {m for m in out if m in known and m != mod}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {m: imports(m, p, known) for m, p in known.items()}


def test_no_import_against_the_layer_order():
    bad = [f"{a} ({LAYER_NAMES[layer(a)]}) imports {b} ({LAYER_NAMES[layer(b)]})"
           for a, targets in graph().items() for b in sorted(targets) if layer(b) > layer(a)]
    assert not bad, "imports against data -> zoo -> train -> metrics -> bench -> human -> cli:\n" + "\n".join(sorted(bad))


def strongly_connected(g: dict[str, set[str]]) -> list[list[str]]:
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
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
            out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    cycles = [c for c in strongly_connected(graph()) if len(c) > 1]
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_checker_sees_real_edges_and_cycles():
    g = graph()
    assert "ganbench.data.base" in g["ganbench.data.registry"]  # a plain relative import is seen
    assert any("ganbench.zoo" in t for t in g["ganbench.train.trainer"])
    assert strongly_connected({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"], ["c"]]


@pytest.mark.parametrize("mod", ["ganbench.cli", "ganbench.bench.runner", "ganbench.metrics.evaluate",
                                 "ganbench.human.server"])
def test_layers_of_known_modules(mod):
    assert LAYER_NAMES[layer(mod)] == {"ganbench.cli": "cli", "ganbench.bench.runner": "bench",
                                       "ganbench.metrics.evaluate": "metrics", "ganbench.human.server": "human"}[mod]
