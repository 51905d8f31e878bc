"""The Notation switch in a real browser (issue 10): choosing deeplearning.ai in the sidebar
retypesets Step through's equations (their MathML) and the diagram's labels while the LSTM's
numbers stay exactly as they were; and every notation reads well on a projector and a large
screen (nothing clipped, no label over another), screenshots saved for a look.

Every wait is on a condition (the MathML changed, the link says ``notation=``), never a sleep.
"""

from __future__ import annotations

import pytest
from _checks import (
    exception_problems,
    full_screenshot,
    key_figure_problems,
    open_drawn,
    overflow_problems,
    overlap_problems,
)
from playwright.sync_api import Page
from test_app import GS_ROOT, SIDEBAR, open_app, rerun

STEP = "/Step_through"
DIAGRAM, CURRENT_EQ = "svg.gs-diagram", ".gs-eq.gs-current"

# What the timeline shows, read at once: the equations' MathML, their boxed results, the
# numbers printed in the diagram, and its labels.
READ = f"""() => {{
    const r = {GS_ROOT};
    const all = (sel, f) => Array.from(r.querySelectorAll(sel), f);
    return {{
        math: all('.gs-eq math', e => e.outerHTML),
        results: all('.gs-eq .gs-eq-result', e => e.textContent),
        values: all('svg.gs-diagram .gs-value', e => e.textContent),
        labels: all('svg.gs-diagram .gs-box-label, svg.gs-diagram .gs-pill-label',
                    e => e.textContent),
        t: r.dataset.t,
    }};
}}"""


def choose_notation(page: Page, label: str) -> None:
    """Choose in the sidebar's Notation select by typing (typing into the focused combobox
    opens its menu and filters it to the one option; Enter picks it)."""
    box = page.locator(f"{SIDEBAR} [data-testid=stSelectbox]").filter(has_text="Notation")
    combo = box.locator("[role=combobox]")
    combo.focus()
    combo.press_sequentially(label)
    page.get_by_role("option", name=label, exact=True).wait_for(state="visible")
    combo.press("Enter")


@pytest.mark.browser
def test_switching_the_notation_changes_the_equations_not_the_numbers(page: Page, app_url):
    page.set_viewport_size({"width": 1600, "height": 1000})
    open_app(page, f"{app_url}{STEP}?cell=lstm&T=8&step=3")
    page.wait_for_function(f"() => {GS_ROOT} && {GS_ROOT}.querySelectorAll('.gs-eq math').length")
    before = page.evaluate(READ)
    assert "Γ" not in " ".join(before["labels"])

    rerun(page, lambda: choose_notation(page, "deeplearning.ai"))
    page.wait_for_url("**notation=dlai**")
    page.wait_for_function(
        f"() => Array.from({GS_ROOT}.querySelectorAll('.gs-eq math'))"
        ".some(m => m.textContent.includes('Γ'))"
    )
    after = page.evaluate(READ)
    # the equations: retypeset in the course's symbols (Γf, c⟨t⟩, a⟨t⟩)
    assert after["math"] != before["math"]
    assert any("⟨" in m or "&#x027E8;" in m or "\u27e8" in m for m in after["math"])
    assert any("Γ" in lab for lab in after["labels"]), after["labels"]
    # the numbers: the LSTM is the same model, every printed number identical, same step
    assert after["results"] == before["results"]
    assert after["values"] == before["values"]
    assert after["t"] == before["t"]


CASES = [
    pytest.param(notation, cell, w, h, present, mode, id=f"{notation}_{cell}_{mode}_{w}x{h}")
    for notation in ("pytorch", "dlai", "cho")
    for cell in ("lstm", "gru", "rnn")
    for mode in ("forward", "backward")
    for w, h, present in ((1280, 720, True), (1920, 1080, False))
    if mode == "forward" or (notation != "pytorch" and (cell == "gru" or w == 1280))
]


@pytest.mark.browser
@pytest.mark.parametrize(("notation", "cell", "w", "h", "present", "mode"), CASES)
def test_every_notation_reads_well(page: Page, app_url, screens_dir, notation, cell, w, h,
                                   present, mode):  # fmt: skip
    page.set_viewport_size({"width": w, "height": h})
    query = f"cell={cell}&notation={notation}&mode={mode}" + ("&present=1" if present else "")
    open_drawn(page, f"{app_url}{STEP}?{query}", wait_for=DIAGRAM)
    problems = exception_problems(page) + overflow_problems(page) + overlap_problems(page)
    problems += key_figure_problems(page, DIAGRAM, min_visible=0)
    if present:
        for selector in (DIAGRAM, CURRENT_EQ):
            problems += key_figure_problems(page, selector)
    full_screenshot(page, screens_dir / f"notation_{notation}_{cell}_{mode}_{w}x{h}.png")
    unique = list(dict.fromkeys(problems))
    assert not unique, f"{len(unique)} layout problem(s) at {page.url}:\n  " + "\n  ".join(unique)
