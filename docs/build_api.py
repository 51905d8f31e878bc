"""Write docs/engine_api.md, the engine's API reference, from the engine's own docstrings.

    python docs/build_api.py           # rewrite docs/engine_api.md
    python docs/build_api.py --check   # exit 1 if the committed file is out of date

The reference documents the public names of ``engine`` (its ``__all__``), ``engine.explain``,
``engine.theory`` and ``engine.inputs``: the signature and the docstring of each, and, per
cell, the forward and backward equations written in the step functions' docstrings
(``engine.cells.*_step_forward`` / ``*_step_backward``, the "Equations::" blocks).
``tests/test_docs.py`` renders it in memory and fails when the committed file differs, so
a docstring edit must come with ``python docs/build_api.py``. The output depends only on the
source (no timestamps, no memory addresses), so it is the same on every machine.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "engine_api.md"

if str(ROOT) not in sys.path:  # `python docs/build_api.py` from a clone without an install
    sys.path.insert(0, str(ROOT))

# The modules documented in sections of their own, in this order. A name of ``engine``'s
# __all__ that one of them defines is listed under ``engine`` and documented in its section.
SECTIONS = ("engine", "engine.inputs", "engine.theory", "engine.explain")

CELL_TITLES = {"rnn": "Vanilla (Elman) RNN", "gru": "GRU", "lstm": "LSTM"}

_MAX_VALUE = 100  # a constant's repr longer than this is described by its type instead


# --------------------------------------------------------------------------------------------
# Reading the source
# --------------------------------------------------------------------------------------------


def public_names(module) -> list[str]:
    """``__all__`` when the module has one, else its top-level public definitions in order."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    names = []
    for node in ast.parse(inspect.getsource(module)).body:
        for name in _defined(node):
            if not name.startswith("_") and name not in names:
                names.append(name)
    return names


def _defined(node) -> list[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def defining_module(package, name: str):
    """The submodule of a package where ``name`` is defined (assigned or def'd), not imported."""
    obj = getattr(package, name)
    if inspect.isfunction(obj) or inspect.isclass(obj):
        return importlib.import_module(obj.__module__)
    if not hasattr(package, "__path__"):  # a plain module: its constants are its own
        return package
    for path in sorted(Path(package.__file__).parent.glob("*.py")):
        module = importlib.import_module(f"{package.__name__}.{path.stem}")
        if path.stem != "__init__" and name in _assignments(module):
            return module
    return package


def _assignments(module) -> dict[str, str]:
    """Top-level constants of a module -> their documentation: the string literal right after
    the assignment, or the ``#:`` comment lines right above it ("" when there is neither)."""
    source = inspect.getsource(module)
    lines = source.splitlines()
    body = ast.parse(source).body
    found = {}
    for k, node in enumerate(body):
        if not isinstance(node, ast.Assign | ast.AnnAssign):
            continue
        doc = ""
        after = body[k + 1] if k + 1 < len(body) else None
        if (
            isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            doc = inspect.cleandoc(after.value.value)
        else:
            comments = []
            row = node.lineno - 2
            while row >= 0 and lines[row].lstrip().startswith("#:"):
                comments.insert(0, lines[row].lstrip()[2:].strip())
                row -= 1
            doc = " ".join(comments)
        for name in _defined(node):
            found[name] = doc
    return found


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def _rst_to_md(text: str) -> str:
    """The few reStructuredText marks of a summary line, as Markdown."""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"`\1`", text)  # :func:`x` -> `x`
    return text.replace("``", "`")


def _summary_and_rest(doc: str) -> tuple[str, str]:
    parts = doc.split("\n\n", 1)
    return parts[0], (parts[1] if len(parts) > 1 else "")


def _fence(text: str, lang: str = "text") -> list[str]:
    return [f"```{lang}", text.rstrip(), "```", ""]


def _signature(obj, name: str) -> str:
    try:
        sig = str(inspect.signature(obj))
    except (TypeError, ValueError):
        sig = "(...)"
    keyword = "class" if inspect.isclass(obj) else "def"
    return f"{keyword} {name}{sig}"


def _value(obj) -> str:
    text = repr(obj)
    if len(text) > _MAX_VALUE or " at 0x" in text:
        return f"<{type(obj).__name__}>"
    return text


def _anchor(module_name: str, name: str) -> str:
    """GitHub's anchor for the heading ``module_name.name``: lower case, dots dropped."""
    return re.sub(r"[^\w\- ]", "", f"{module_name}.{name}".lower()).replace(" ", "-")


def _doc_block(doc: str) -> list[str]:
    if not doc:
        return ["*(no docstring)*", ""]
    summary, rest = _summary_and_rest(doc)
    out = [_rst_to_md(" ".join(summary.split())), ""]
    if rest:
        out += _fence(rest)
    return out


def _members(cls) -> list[tuple[str, object]]:
    """Public methods and properties a class defines itself (not inherited, not dunder)."""
    members = []
    for name, member in cls.__dict__.items():
        if name.startswith("_"):
            continue
        if isinstance(member, property | staticmethod | classmethod) or inspect.isfunction(member):
            members.append((name, member))
    return members


def render_name(module, name: str, constants: dict[str, str]) -> list[str]:
    obj = getattr(module, name)
    out = [f"### {module.__name__}.{name}", ""]
    if inspect.isfunction(obj) or inspect.isclass(obj):
        out += _fence(_signature(obj, name), "python")
        out += _doc_block(inspect.getdoc(obj) or "")
        if inspect.isclass(obj):
            for member_name, member in _members(obj):
                if isinstance(member, property):
                    head = f"{name}.{member_name}  (property)"
                    doc = inspect.getdoc(member) or ""
                else:
                    function = member.__func__ if hasattr(member, "__func__") else member
                    head = _signature(function, f"{name}.{member_name}")
                    doc = inspect.getdoc(function) or ""
                out += [f"- `{head}`" + (f": {_rst_to_md(' '.join(doc.split()))}" if doc else "")]
            if _members(obj):
                out.append("")
    else:
        out += _fence(f"{name} = {_value(obj)}", "python")
        if constants.get(name):  # an undocumented constant: its value says it
            out += _doc_block(constants[name])
    return out


def render_module(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    own = [m for m in SECTIONS if m != module_name]
    out = [f"## {module_name}", ""]
    summary, rest = _summary_and_rest(inspect.getdoc(module) or "")
    out += [_rst_to_md(" ".join(summary.split())), ""]
    if rest:
        out += _fence(rest)
    groups: dict[str, list[str]] = {}
    for name in public_names(module):
        groups.setdefault(defining_module(module, name).__name__, []).append(name)
    for source_name, names in groups.items():
        if module_name == "engine":
            out += [f"Defined in `{source_name}`:", ""]
        if source_name in own:  # documented in its own section: a linked list here
            for name in names:
                out.append(f"- [`{name}`](#{_anchor(source_name, name)})")
            out.append("")
            continue
        constants = _assignments(importlib.import_module(source_name))
        for name in names:
            out += render_name(module, name, constants)
    return out


def _equations(function) -> str:
    """The indented block after "Equations::" in a step function's docstring."""
    lines = (inspect.getdoc(function) or "").splitlines()
    start = lines.index("Equations::") + 1
    block = []
    for line in lines[start:]:
        if line.strip() and not line.startswith(" "):
            break
        block.append(line)
    return inspect.cleandoc("\n".join(block))


def render_equations() -> list[str]:
    cells = importlib.import_module("engine.cells")
    summary, rest = _summary_and_rest(inspect.getdoc(cells) or "")
    out = [
        "## Equations",
        "",
        "PyTorch's convention (`torch.nn.RNN`, `torch.nn.GRU`, `torch.nn.LSTM`, layer 0): the",
        "names, the layout and the equations below are the step functions' own docstrings in",
        "`engine/cells.py`; `tests/test_engine.py` holds the sequence code equal to them and both",
        "against finite differences.",
        "",
    ]
    if rest:
        out += _fence(rest)
    for cell, gates in cells.GATES.items():
        step_forward = getattr(cells, f"{cell}_step_forward")
        step_backward = getattr(cells, f"{cell}_step_backward")
        blocks = ", ".join(gates)
        out += [
            f"### {CELL_TITLES.get(cell, cell)} (`{cell}`)",
            "",
            f"Gate blocks of `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`, in order: {blocks}.",
            "",
            f"Forward (`engine.cells.{step_forward.__name__}`):",
            "",
            *_fence(_equations(step_forward)),
            f"Backward (`engine.cells.{step_backward.__name__}`):",
            "",
            *_fence(_equations(step_backward)),
        ]
    return out


def render() -> str:
    lines = [
        "# The engine API",
        "",
        "<!-- Generated by docs/build_api.py from the engine's docstrings: do not edit by hand.",
        "     Run `python docs/build_api.py` after changing a docstring; tests/test_docs.py",
        "     fails while this file is out of date. -->",
        "",
        "Install the engine and the figure builders with `pip install -e .` from a clone",
        '(`pip install -e ".[notebook]"` adds Jupyter); then `import engine` works from any',
        "folder.",
        "",
        "Contents: [Equations](#equations) · "
        + " · ".join(f"[`{m}`](#{m.replace('.', '')})" for m in SECTIONS),
        "",
    ]
    lines += render_equations()
    for module_name in SECTIONS:
        lines += render_module(module_name)
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT.relative_to(ROOT)} is out of date: run python docs/build_api.py")
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
