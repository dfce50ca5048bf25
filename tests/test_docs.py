"""Run the examples in docs/API.md and in the package's docstrings as doctests."""
import doctest
import importlib
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
API_MD = os.path.join(ROOT, "docs", "API.md")
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

MODULES = ["cyw2v", "cyw2v.model", "cyw2v.keyedvectors", "cyw2v.corpus", "cyw2v.datasets", "cyw2v.vocab",
           "cyw2v.io", "cyw2v.cli", "cyw2v.plot", "cyw2v.sklearn"]
OPTIONAL = {"cyw2v.sklearn": "sklearn", "cyw2v.plot": "matplotlib"}


def test_api_md_examples():
    pytest.importorskip("sklearn")  # the API reference shows the optional extras too
    pytest.importorskip("matplotlib")
    result = doctest.testfile(API_MD, module_relative=False, optionflags=FLAGS, verbose=False)
    assert result.attempted > 50
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in docs/API.md failed"


@pytest.mark.parametrize("name", MODULES)
def test_module_docstrings(name):
    if name in OPTIONAL:
        pytest.importorskip(OPTIONAL[name])
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=FLAGS, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples in {name} failed"


def test_py_typed_marker_ships():
    import cyw2v
    assert os.path.exists(os.path.join(os.path.dirname(cyw2v.__file__), "py.typed"))
