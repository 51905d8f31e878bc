"""docs/engine_api.md is generated from the engine's docstrings and must stay current.

After changing a public docstring or signature of ``engine``, ``engine.inputs``,
``engine.theory`` or ``engine.explain`` (or a step function's "Equations::" block), run
``python docs/build_api.py`` and commit the regenerated file.
"""

import difflib
import importlib.util
from pathlib import Path

import engine
import engine.cells
import engine.explain
import engine.inputs
import engine.theory

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "engine_api.md"


def _build_api():
    spec = importlib.util.spec_from_file_location("build_api", ROOT / "docs" / "build_api.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_engine_api_doc_is_current():
    rendered = _build_api().render()
    committed = DOC.read_text(encoding="utf-8")
    if committed != rendered:
        diff = difflib.unified_diff(
            committed.splitlines(), rendered.splitlines(), "committed", "docstrings", lineterm=""
        )
        shown = "\n".join(list(diff)[:60])
        raise AssertionError(
            f"docs/engine_api.md is out of date: run `python docs/build_api.py`\n{shown}"
        )


def test_engine_api_doc_covers_every_public_name():
    text = DOC.read_text(encoding="utf-8")
    build = _build_api()
    for module in (engine.inputs, engine.theory, engine.explain):
        for name in build.public_names(module):
            assert f"### {module.__name__}.{name}\n" in text, f"{module.__name__}.{name}"
    for name in engine.__all__:
        assert f"### engine.{name}\n" in text or f"[`{name}`](#" in text, name


def test_engine_api_doc_has_each_cells_equations():
    text = DOC.read_text(encoding="utf-8")
    equations = text.split("## Equations", 1)[1].split("\n## ", 1)[0]
    for cell in engine.cells.GATES:
        for direction in ("forward", "backward"):
            assert f"`engine.cells.{cell}_step_{direction}`" in equations
    # PyTorch's GRU convention: z keeps the old state
    assert "h = (1 - z) ⊙ n + z ⊙ h_prev" in equations
    assert "c = f ⊙ c_prev + i ⊙ g" in equations
