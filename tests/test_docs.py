"""The README shows real output: its console blocks are re-run and compared, its Python examples
and the modules' docstring examples run as doctests."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

import importlib

ROOT = Path(__file__).resolve().parent.parent


def _gen():
    import importlib.util
    spec = importlib.util.spec_from_file_location("gen_readme", ROOT / "scripts" / "gen_readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_console_blocks_show_real_output(monkeypatch):
    monkeypatch.chdir(ROOT)
    text = (ROOT / "README.md").read_text()
    assert _gen().filled(text) == text, "README output is stale: run .venv/bin/python scripts/gen_readme.py"


def test_readme_has_examples_for_every_console_block():
    gen = _gen()
    blocks = gen.BLOCK.findall((ROOT / "README.md").read_text())
    assert blocks and all(gen.commands(b) for b in blocks)


def test_readme_python_examples():
    result = doctest.testfile(str(ROOT / "README.md"), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize("module", ["shapesmith.dims", "shapesmith.trace", "shapesmith.solver"])
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0
