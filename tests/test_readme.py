"""The README's notebook snippet, run as written from a folder outside the repository.

The snippet must work wherever a student opens a notebook, so it runs in a fresh interpreter
with its working directory in a temporary folder and without PYTHONPATH: ``engine`` has to come
from the installed package (``make test`` installs this checkout with ``pip install -e .``). Its
printed output must equal the output block the README shows right after it.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
HEADING = "## The engine in a notebook"


def _fenced_blocks(text: str) -> list[tuple[str, str, int, int]]:
    """Every ``` fenced block as (language, body, start, end) offsets into ``text``."""
    pattern = re.compile(r"^```([\w+-]*)[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
    return [(m[1], m[2], m.start(), m.end()) for m in pattern.finditer(text)]


def readme_snippet() -> tuple[str, str]:
    """The first python block under HEADING and the output block that follows it."""
    text = README.read_text(encoding="utf-8")
    start = text.index(HEADING)
    end = text.find("\n## ", start + len(HEADING))
    section = text[start : end if end != -1 else len(text)]
    blocks = _fenced_blocks(section)
    for k, (lang, code, _, code_end) in enumerate(blocks):
        if lang == "python":
            assert k + 1 < len(blocks), "no output block after the README's notebook snippet"
            out_lang, output, out_start, _ = blocks[k + 1]
            between = section[code_end:out_start]
            assert not between.strip() and out_lang in ("", "text"), (
                "the README's notebook snippet must be followed directly by its output block"
            )
            return code, output
    raise AssertionError(f"no ```python block under {HEADING!r} in README.md")


def _run_outside(tmp_path, code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    script = tmp_path / "snippet.py"  # sys.path[0] is tmp_path, never the repository
    script.write_text(code, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_engine_is_installed_from_this_checkout(tmp_path):
    assert ROOT not in tmp_path.resolve().parents
    probe = "import engine, figures; print(engine.__file__); print(figures.__file__)"
    result = _run_outside(tmp_path, probe)
    assert result.returncode == 0, (
        "`import engine, figures` fails outside the repository: install this checkout with "
        f"`{sys.executable} -m pip install -e .` (make test does)\n{result.stderr}"
    )
    for line in result.stdout.split():
        assert ROOT in Path(line).resolve().parents, (
            f"{line} is not this checkout: reinstall with `pip install -e .`"
        )


def test_readme_notebook_snippet_prints_what_the_readme_shows(tmp_path):
    code, expected = readme_snippet()
    result = _run_outside(tmp_path, code)
    assert result.returncode == 0, f"the README snippet failed:\n{result.stderr}"
    printed = [line.rstrip() for line in result.stdout.splitlines()]
    shown = [line.rstrip() for line in expected.splitlines()]
    assert printed == shown, "the README's output block differs from what the snippet prints"


def test_readme_notebook_snippet_states_the_presets_shape():
    """The snippet's comment on the preset's shape, e.g. ``(T=15, D=13)``, is the engine's."""
    from engine.inputs import preset

    code, _ = readme_snippet()
    for line in code.splitlines():
        called = re.search(r"""preset\(\s*["']([^"']+)["']\s*\)""", line)
        stated = re.search(r"T\s*=\s*(\d+),\s*D\s*=\s*(\d+)", line)
        if called and stated:
            seq = preset(called[1])
            assert (int(stated[1]), int(stated[2])) == (seq.T, seq.D), (
                f"README says {stated[0]} for {called[1]!r}; the preset gives "
                f"T={seq.T}, D={seq.D}:\n{line}"
            )
