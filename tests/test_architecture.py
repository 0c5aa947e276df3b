"""The architecture, enforced: layers without back-edges, no import cycles, no private
cross-module imports, a light core (docs/design.md draws the layers).

The import graph is read from the source with ``ast`` (every ``import`` statement, also
inside functions; only ``if TYPE_CHECKING:`` blocks are left out), so a cycle hidden by a
function-level import fails here as well.
"""

from __future__ import annotations

import ast
import sys
import types
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ltcjax"

#: Layer of each module, lowest first; a module may import its own layer or lower ones.
LAYERS = ("core", "integration", "adapters", "applications", "cli")
INTEGRATION = {"ltcjax.continuous", "ltcjax.export"}
CLI = {
    "ltcjax.cli",
    "ltcjax.demo",
    "ltcjax.train.cli",
    "ltcjax.expressivity.cli",
    "ltcjax.expressivity.__main__",
    "ltcjax.experiment.cli",
}
#: Heavy or framework packages the core never imports at module level (Diffrax is imported
#: lazily by ltcjax.solvers, only when a Diffrax solver is used).
NOT_IN_CORE = {"flax", "optax", "equinox", "diffrax", "orbax", "matplotlib", "tqdm"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    if module in CLI:
        return "cli"
    if module in INTEGRATION:
        return "integration"
    if module.startswith("ltcjax.nn"):
        return "adapters"
    if module.startswith(
        ("ltcjax.train", "ltcjax.data", "ltcjax.expressivity", "ltcjax.experiment")
    ):
        return "applications"
    return "core"


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(module: str, level: int, current: str, is_package: bool) -> str:
    if level == 0:
        return module
    base = current.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def imports_of(module: str) -> list[tuple[str, str | None, bool, int]]:
    """``(imported module, imported name or None, at module level, line)`` per import."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[str, str | None, bool, int]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            if isinstance(child, ast.Import):
                found.extend((a.name, None, top, child.lineno) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                source = _resolve(
                    child.module or "", child.level, module, path.name == "__init__.py"
                )
                for alias in child.names:
                    candidate = f"{source}.{alias.name}"
                    if candidate in MODULES:  # `from package import submodule`
                        found.append((candidate, None, top, child.lineno))
                    else:
                        found.append((source, alias.name, top, child.lineno))
            nested = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, top and not nested)

    visit(tree, True)
    return found


def internal_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module in MODULES:
        for target, _, _, _ in imports_of(module):
            if target in MODULES and target != module:
                graph[module].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := dfs(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := dfs(node)):
            return cycle
    return None


def test_the_package_has_modules():
    assert "ltcjax.cell" in MODULES and "ltcjax.models.ltc" in MODULES
    assert len(MODULES) > 30


def test_import_graph_has_no_cycle():
    cycle = find_cycle(internal_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_find_cycle_finds_a_cycle():  # the check above can fail
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_layers_have_no_back_edges():
    bad = []
    for module, targets in internal_graph().items():
        for target in targets:
            if LAYERS.index(layer_of(target)) > LAYERS.index(layer_of(module)):
                bad.append(f"{module} ({layer_of(module)}) imports {target} ({layer_of(target)})")
    assert not bad, "\n".join(bad)


def test_no_module_imports_another_modules_private_names():
    bad = []
    for module in MODULES:
        for target, name, _, line in imports_of(module):
            if not target.startswith("ltcjax"):
                continue
            private_module = any(
                part.startswith("_") and not part.startswith("__") for part in target.split(".")
            )
            private_name = name is not None and name.startswith("_") and not name.startswith("__")
            if (private_module or private_name) and target != module:
                bad.append(f"{module}:{line} imports {target}.{name or ''}")
    assert not bad, "\n".join(bad)


def test_core_imports_no_framework_at_module_level():
    bad = []
    for module in MODULES:
        if layer_of(module) != "core":
            continue
        for target, _, top, line in imports_of(module):
            if top and target.split(".")[0] in NOT_IN_CORE:
                bad.append(f"{module}:{line} imports {target}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize(
    "source,expected",
    [
        ("from ltcjax.sequence import unroll\n", ("ltcjax.sequence", "unroll")),
        ("def f():\n    from ltcjax.cell import _x\n", ("ltcjax.cell", "_x")),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import ltcjax.cell\n", None),
    ],
)
def test_imports_are_read_also_inside_functions(tmp_path, monkeypatch, source, expected):
    path = tmp_path / "probe.py"
    path.write_text(source)
    monkeypatch.setitem(MODULES, "ltcjax.probe", path)
    found = [(t, n) for t, n, _, _ in imports_of("ltcjax.probe") if t.startswith("ltcjax")]
    assert found == ([] if expected is None else [expected])


def test_design_doc_model_example_runs(monkeypatch):
    """docs/design.md's "a new model is one file" example works end to end: every solver,
    the whole-sequence Diffrax path and the registry, against the closed-form solution."""
    import re

    import diffrax
    import jax
    import jax.numpy as jnp
    import numpy as np

    from ltcjax import DiffraxSolver, registry
    from ltcjax.continuous import odeint_sequence

    doc = (PACKAGE.parent / "docs" / "design.md").read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)```", doc, re.S) if "LeakyCell" in b)
    module = types.ModuleType("leaky_example")
    monkeypatch.setitem(sys.modules, "leaky_example", module)
    exec(compile(block, "docs/design.md", "exec"), module.__dict__)
    leaky_cell = module.LeakyCell

    cell = leaky_cell(input_size=2, units=3, tau=0.5)
    params = cell.init(jax.random.key(0))
    x = jnp.ones((4, 5, 2))
    drive = np.tanh(np.asarray(x[0, 0] @ params.kernel))
    t = 0.3 * np.arange(1, 6)[:, None]
    exact = drive * (1 - np.exp(-t / 0.5))  # h(0) = 0, constant input
    for solver, tol in (("rk4", 1e-4), ("tsit5", 1e-3), ("euler", 0.1)):
        ys, _ = cell.apply(params, x, timespans=0.3, solver=solver)
        np.testing.assert_allclose(ys[0], exact, atol=tol)
    with pytest.raises(ValueError, match="solver: expected Euler.*has no fused"):
        leaky_cell(input_size=2, units=3, solver="fused")
    times = jnp.broadcast_to(0.3 * jnp.arange(1, 6), (4, 5))
    monkeypatch.setitem(registry._REGISTRY, "leaky", leaky_cell)  # the doc's register(...)
    assert registry.make_cell("leaky", input_size=2, units=3, tau=0.5) == cell
    solver = DiffraxSolver(solver=diffrax.Dopri5(), rtol=1e-7, atol=1e-9)
    sol = odeint_sequence(cell, params, x, times, t0=0.0, solver=solver)
    np.testing.assert_allclose(sol.outputs[0], exact, atol=1e-5)
