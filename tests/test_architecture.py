"""The package's import graph, read from the source: no cycles, and every import goes down
the declared layers.

Every ``import``/``from ... import`` in a module counts: at the top, inside functions, and
under ``if TYPE_CHECKING:`` too (a type-only import against the layers is still an upward
dependency: put the type lower, or take it as a protocol). Relative imports are resolved;
``from . import x`` counts as importing the submodule ``x`` when there is one, else the
package itself (``cyw2v/__init__``), as ``import cyw2v`` and ``from . import __version__`` do.
``importlib.import_module`` with a computed name (``_dispatch`` loading ``_core_avx2``) is
not seen.

A subpackage (``cyw2v/dask/``) is one entry of LAYERS, named by its folder, for what it
imports from the rest of the package and what may import it; its own modules (``dask.merge``,
...; ``dask`` is its ``__init__``) follow their own order in SUBLAYERS and may import
nothing else of their outer layer.
"""
import ast
from pathlib import Path
from typing import Dict, List, Optional, Set

import pytest

PACKAGE = "cyw2v"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE
INIT = "__init__"

#: Lowest first; a module may import only modules of lower layers.
LAYERS: List[List[str]] = [
    ["_core", "_core_avx2", "_core_avx512", "_core_emulate", "_version", "_files", "_ranking", "datasets"],  # stdlib/numpy only
    ["_dispatch", "_formats", "_gensim_pickle", "evaluation", "distances", "interchange", "scoring"],
    ["corpus", "keyedvectors", "params", "vocab", "weights"],
    ["training", "persistence"],
    ["model"],
    ["io", "sklearn", "plot", "dask", "cli_files"],
    ["cli"],  # the commands use io, plot, model, ...
    ["__main__"],
    [INIT],  # the package's public names; nothing imports it
]

#: Each subpackage's modules, lowest first (INIT: its __init__, which names its public API).
SUBLAYERS: Dict[str, List[List[str]]] = {
    "dask": [["merge"], ["inputs"], ["replica"], ["driver"], [INIT]],
}

#: (importer, imported) pairs allowed within one layer, each with its reason.
SAME_LAYER_ALLOWED: Dict[tuple, str] = {
    ("interchange", "_formats"): "KeyedVectors' word2vec.c methods map the formats onto its rows; the mixin "
                                 "must sit below keyedvectors",
    ("_gensim_pickle", "_formats"): "the restricted gensim reader is a format reader too and raises the "
                                    "formats' FormatError",
}

#: The class modules, which the file layers must not know.
CLASS_MODULES = {"keyedvectors", "model", "vocab", "corpus", "sklearn", "params", "weights", "training"}


def _module_name(path: Path) -> str:
    """cyw2v/x.py -> x; cyw2v/dask/__init__.py -> dask; cyw2v/dask/merge.py -> dask.merge."""
    rel = path.relative_to(ROOT)
    if len(rel.parts) == 1:
        return path.stem
    return rel.parts[0] if path.stem == INIT else f"{rel.parts[0]}.{path.stem}"


def _sources() -> List[Path]:
    return sorted(ROOT.glob("*.py")) + sorted(p for sub in SUBLAYERS for p in (ROOT / sub).glob("*.py"))


def package_modules() -> Set[str]:
    """Names of the package's modules: its .py files (subpackages' as ``sub.name``) and its
    compiled (.pyx) extensions."""
    return {_module_name(p) for p in _sources()} | {p.stem for p in ROOT.glob("*.pyx")}


def _resolve(node: ast.AST, modules: Set[str], package: str = PACKAGE) -> Set[str]:
    """The package modules one import statement imports; ``package`` is the importer's
    package (``cyw2v`` or ``cyw2v.dask``), for relative imports."""
    found: Set[str] = set()

    def module_of(dotted: Optional[str]) -> Optional[str]:
        """'cyw2v' -> __init__, 'cyw2v.x.y' -> x, 'cyw2v.dask.y' -> dask.y; None for other packages."""
        if dotted is None:
            return None
        parts = dotted.split(".")
        if parts[0] != PACKAGE:
            return None
        if len(parts) == 1:
            return INIT
        if parts[1] in SUBLAYERS:
            return parts[1] if len(parts) == 2 else f"{parts[1]}.{parts[2]}"
        return parts[1]

    if isinstance(node, ast.Import):
        for alias in node.names:
            name = module_of(alias.name)
            if name is not None:
                found.add(name)
    elif isinstance(node, ast.ImportFrom):
        depth = package.count(".") + 1
        if node.level > depth:
            raise AssertionError(f"line {node.lineno}: import above the package (level {node.level})")
        if node.level:
            anchor = ".".join(package.split(".")[:depth - node.level + 1])
            base = anchor + ("." + node.module if node.module else "")
        else:
            base = node.module
        name = module_of(base)
        if name is None:
            return found
        if name == INIT or name in SUBLAYERS:  # from a package import x: a submodule, or the package's name
            prefix = "" if name == INIT else name + "."
            for alias in node.names:
                found.add(prefix + alias.name if prefix + alias.name in modules else name)
        else:
            found.add(name)
    return found


def import_graph() -> Dict[str, Set[str]]:
    """module -> the package modules it imports (compiled modules have no Python source)."""
    modules = package_modules()
    graph: Dict[str, Set[str]] = {}
    for path in _sources():
        name = _module_name(path)
        package = PACKAGE if "." not in name and path.parent == ROOT else f"{PACKAGE}.{name.split('.')[0]}"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges: Set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges |= _resolve(node, modules, package)
        unknown = edges - modules
        assert not unknown, f"{path.name} imports {sorted(unknown)}, which are not modules of {PACKAGE}"
        edges.discard(name)
        graph[name] = edges
    return graph


def find_cycle(graph: Dict[str, Set[str]]) -> Optional[List[str]]:
    """One import cycle as [a, b, ..., a], or None."""
    state: Dict[str, int] = {}  # 1: on the current path, 2: done
    path: List[str] = []

    def visit(node: str) -> Optional[List[str]]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def _levels() -> Dict[str, tuple]:
    """module -> (its layer, its sublayer within a subpackage, 0 outside one)."""
    level = {name: (i, 0) for i, layer in enumerate(LAYERS) for name in layer}
    for sub, sublayers in SUBLAYERS.items():
        for j, names in enumerate(sublayers):
            for name in names:
                level[sub if name == INIT else f"{sub}.{name}"] = (level[sub][0], j)
    return level


def _subpackage(name: str) -> Optional[str]:
    head = name.split(".")[0]
    return head if head in SUBLAYERS else None


def layer_violations(graph: Dict[str, Set[str]]) -> List[str]:
    level = _levels()
    bad = []
    for importer, imported in sorted(graph.items()):
        for target in sorted(imported):
            if importer not in level or target not in level:
                bad.append(f"{importer} imports {target}: place both in LAYERS (or SUBLAYERS)")
                continue
            (li, si), (lt, st) = level[importer], level[target]
            inside = _subpackage(importer) is not None and _subpackage(importer) == _subpackage(target)
            if lt < li or (inside and st < si) or (importer, target) in SAME_LAYER_ALLOWED:
                continue
            how = "in its own layer" if level[target] == level[importer] or (lt == li and not inside) \
                else "in a higher layer"
            bad.append(f"{importer} (L{li}{'.' + str(si) if _subpackage(importer) else ''}) imports {target} "
                       f"(L{lt}{'.' + str(st) if _subpackage(target) else ''}), {how}")
    return bad


def test_every_module_has_a_layer():
    listed = [name for layer in LAYERS for name in layer]
    listed += [f"{sub}.{name}" for sub, sublayers in SUBLAYERS.items() for names in sublayers
               for name in names if name != INIT]
    assert len(listed) == len(set(listed)), "a module is listed in two layers"
    missing = sorted(package_modules() - set(listed))
    assert not missing, f"place these modules in LAYERS of tests/test_architecture.py: {missing}"


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_imports_follow_the_layers():
    assert layer_violations(import_graph()) == []


def test_nothing_imports_the_package_init():
    importers = sorted(name for name, edges in import_graph().items() if INIT in edges)
    assert importers == [], f"{importers} import cyw2v/__init__ (take __version__ from cyw2v._version)"


@pytest.mark.parametrize("name", ["_files", "_formats"])
def test_file_layers_know_no_class(name):
    imported = import_graph()[name]
    assert not imported & CLASS_MODULES, f"{name} imports {sorted(imported & CLASS_MODULES)}"
    allowed = {"_files": set(), "_formats": {"_files", "_version"}}[name]
    assert imported <= allowed, f"{name} imports {sorted(imported - allowed)}"
    tree = ast.parse((ROOT / f"{name}.py").read_text(encoding="utf-8"))
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    used |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert not used & {"KeyedVectors", "Word2Vec", "Vocabulary"}, f"{name} uses a class of cyw2v"


def test_checker_finds_a_cycle_and_an_upward_import():
    graph = {"_formats": {"_files"}, "_files": {"_formats"}, "keyedvectors": {"model"}, "model": set()}
    assert find_cycle(graph) in (["_files", "_formats", "_files"], ["_formats", "_files", "_formats"])
    assert layer_violations(graph) == [
        "_files (L0) imports _formats (L1), in a higher layer",
        "keyedvectors (L2) imports model (L4), in a higher layer",
    ]


def test_subpackage_layers_are_checked():
    graph = {"model": set(), "io": set(), "dask.merge": {"model"}, "dask.driver": {"dask.merge", "model"},
             "dask": {"dask.driver"}, "dask.inputs": {"io", "dask.driver"}, "sklearn": {"dask.merge"},
             "training": {"dask"}}
    assert layer_violations(graph) == [
        "dask.inputs (L5.1) imports dask.driver (L5.3), in a higher layer",
        "dask.inputs (L5.1) imports io (L5), in its own layer",
        "sklearn (L5) imports dask.merge (L5.0), in its own layer",
        "training (L3) imports dask (L5.4), in a higher layer",
    ]


def test_resolution_inside_a_subpackage():
    modules = {"model", "dask", "dask.merge", "dask.driver", INIT}
    parse = lambda src: _resolve(ast.parse(src).body[0], modules, "cyw2v.dask")  # noqa: E731
    assert parse("from .merge import x") == {"dask.merge"}
    assert parse("from . import merge, driver") == {"dask.merge", "dask.driver"}
    assert parse("from ..model import Word2Vec") == {"model"}
    assert parse("from .. import model") == {"model"}
    assert parse("import dask.bag") == set()              # the Dask library, not the subpackage
    assert parse("from cyw2v.dask.merge import x") == {"dask.merge"}
    with pytest.raises(AssertionError):
        parse("from ...x import y")


def test_resolution_of_relative_and_package_imports():
    modules = {"model", "io", "_version", INIT}
    parse = lambda src: _resolve(ast.parse(src).body[0], modules)  # noqa: E731
    assert parse("from . import __version__") == {INIT}
    assert parse("import cyw2v") == {INIT}
    assert parse("from . import model, io") == {"model", "io"}
    assert parse("from .model import Word2Vec") == {"model"}
    assert parse("from cyw2v._version import __version__") == {"_version"}
    assert parse("import cyw2v.model as m") == {"model"}
    assert parse("from numpy import array") == set()


def test_io_reexports_the_formats_error():
    import cyw2v._formats
    import cyw2v.io
    assert cyw2v.io.FormatError is cyw2v._formats.FormatError
    assert issubclass(cyw2v.io.FormatError, ValueError)


def test_no_module_over_700_lines_and_word2vec_within_300():
    long = {p.name: n for p in ROOT.glob("*.py") if (n := len(p.read_text(encoding="utf-8").splitlines())) > 700}
    assert long == {}, f"split these modules: {long}"
    tree = ast.parse((ROOT / "model.py").read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Word2Vec")
    assert cls.end_lineno - cls.lineno + 1 <= 300
