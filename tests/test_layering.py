"""The layering of DESIGN.md, enforced: imports point down, and no module imports itself round a cycle — counting
imports written inside functions, which hide a cycle without removing it."""

import ast
from pathlib import Path

import learnscope

PACKAGE = Path(learnscope.__file__).parent

#: each top-level unit of the package and its rank: a unit imports only units of a lower rank
RANKS = {
    "core": 0,
    "init": 1,
    "layers": 2, "losses": 2, "optim": 2, "data": 2, "store": 2,
    "model_io": 3,
    "model": 4, "gradcheck": 4,
    "architectures": 5,
    "recipes": 6,
    "train": 7,
    "lessons": 8, "explain": 8, "report": 8, "bridge": 8,
    "lab": 9, "notebook": 9,
    "cli": 10,                                  # `learnscope lab` starts the lab
    "__main__": 11,
    "learnscope": 12,                           # the package root: a facade naming entry points (learnscope.watch)
}


def module_name(path: Path, package: Path) -> str:
    parts = ["learnscope", *path.relative_to(package).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """module -> the learnscope modules it imports anywhere in its file (top level or inside functions)."""
    modules = {module_name(path, package): path for path in package.rglob("*.py")}
    graph = {}
    for module, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("learnscope"):
                # "from learnscope.lessons import jobs" imports the module learnscope.lessons.jobs
                named = {f"{node.module}.{alias.name}" for alias in node.names} & modules.keys()
                targets.update(named or {node.module})
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names if alias.name.startswith("learnscope"))
        graph[module] = {target for target in targets if target != module}
    return graph


def test_every_unit_has_a_rank():
    assert {unit(module) for module in import_graph()} <= set(RANKS)


def upward_imports(graph) -> list[str]:
    return sorted(f"{module} imports {target}" for module, targets in graph.items() for target in targets
                  if unit(module) != unit(target) and RANKS[unit(target)] >= RANKS[unit(module)])


def import_cycles(graph) -> list[str]:
    cycles, state = [], {}                     # state: 1 while on the current path, 2 once finished

    def visit(module, path):
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target):], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return cycles


def test_imports_point_down():
    assert upward_imports(import_graph()) == []


def test_no_module_imports_itself_round_a_cycle():
    assert import_cycles(import_graph()) == []


def test_the_checker_finds_a_cycle_and_an_upward_import(tmp_path):
    # a made-up package: core imports train inside a function (upward), and train imports core (a cycle)
    fake = tmp_path / "learnscope"
    (fake / "core").mkdir(parents=True)
    (fake / "train").mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "core" / "__init__.py").write_text("def late():\n    from learnscope.train import loop\n")
    (fake / "train" / "__init__.py").write_text("")
    (fake / "train" / "loop.py").write_text("import learnscope.core\n")
    graph = import_graph(fake)
    assert graph["learnscope.core"] == {"learnscope.train.loop"}
    assert upward_imports(graph) == ["learnscope.core imports learnscope.train.loop"]
    assert import_cycles(graph) == ["learnscope.core -> learnscope.train.loop -> learnscope.core"]
