"""Checks shared by the browser tests: wait until a page has finished drawing, then measure
it in the browser (clipped text, overlapping labels, the key figure in the first screen, the
keyboard's path through the controls).

Every check is a JavaScript function run by ``page.evaluate`` that returns a list of
human-readable problems (empty when the page is fine), so an assertion message names the
element and the overflow or overlap in pixels. The checks see into open shadow roots (the
Step through page draws inside a Streamlit custom component v2 with ``isolate_styles``):
``deepQueryAll(selector)`` walks every ``element.shadowRoot`` recursively.
"""

from __future__ import annotations

import io
from pathlib import Path

from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

LOAD_MS = 90_000  # a page load on a busy 2-core machine (the largest T and H included)
COMPONENT_MS = 10_000  # a custom component mounts after the run that sent it is over
SETTLE_MS = 400  # after the last chart drew: transitions, fonts, the component's first frame
APP_IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"

PAGES = {  # URL path -> the name used in screenshot file names
    "/": "home",
    "/Step_through": "step_through",
    "/Gates_over_time": "gates_over_time",
    "/Vanishing_gradients": "vanishing_gradients",
    "/GRU_reset": "gru_reset",
    "/Train": "train",
}
STEP = "/Step_through"

# --------------------------------------------------------------------------------------------
# JavaScript: the shared prelude (deep queries, naming an element) and the checks
# --------------------------------------------------------------------------------------------

PRELUDE = r"""
const deepQueryAll = (selector, root = document) => {
    const out = [];
    const walk = node => {
        node.querySelectorAll(selector).forEach(e => out.push(e));
        node.querySelectorAll('*').forEach(e => { if (e.shadowRoot) walk(e.shadowRoot); });
    };
    walk(root);
    return out;
};
const parentOf = el => el.parentNode instanceof ShadowRoot ? el.parentNode.host : el.parentElement;
const snippet = el => (el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 50);
const describe = el => {
    let name = el.tagName.toLowerCase();
    const testid = el.getAttribute('data-testid');
    if (testid) name += `[data-testid=${testid}]`;
    const cls = (el.getAttribute('class') || '').trim().split(/\s+/)  // not emotion's hashes
        .filter(c => c && !/^st-emotion-cache|^e[0-9a-z]{4,}\d$/.test(c)).slice(0, 3);
    if (cls.length) name += '.' + cls.join('.');
    const text = snippet(el);
    return text ? `${name} "${text}"` : name;
};
const px = v => Math.round(v * 10) / 10;
const isVisible = el => {
    const r = el.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0) return false;
    if (el.checkVisibility && !el.checkVisibility({visibilityProperty: true})) return false;
    for (let e = el; e && e.nodeType === 1; e = parentOf(e)) {
        const s = getComputedStyle(e);
        if (s.display === 'none' || s.visibility === 'hidden' || s.visibility === 'collapse'
            || parseFloat(s.opacity) === 0) return false;
    }
    return parseFloat(getComputedStyle(el).fillOpacity) !== 0 || !(el instanceof SVGElement);
};
"""

# Elements that hold text and can overflow their box.
OVERFLOW_SELECTORS = (
    ".katex-display",
    "[data-testid=stMarkdownContainer]",
    ".gs-eq",
    "pre",
    "[data-testid=stCode]",
)

# Text labels of a Plotly figure (titles, axis titles, annotations, legend, ticks, colour bars).
PLOTLY_LABEL_JS = r"""
const isLabel = t => {
    const cls = t.getAttribute('class') || '';
    const parent = t.parentNode;
    const pcls = (parent && parent.getAttribute && parent.getAttribute('class')) || '';
    return /^(g|x\d*|y\d*)title$/.test(cls)          // .gtitle .xtitle .ytitle .x2title ...
        || cls === 'annotation-text' || cls === 'legendtext'
        || /(^|\s)cbtitle(\s|$)/.test(pcls)             // colour-bar titles
        || /(^|\s)(x\d*|y\d*|[xy]cb\w*)tick(\s|$)/.test(pcls);  // axis, colour-bar ticks
};
const labelKind = t => {
    const cls = t.getAttribute('class') || '';
    const pcls = (t.parentNode.getAttribute && t.parentNode.getAttribute('class')) || '';
    if (/(^|\s)[xy]cb\w*tick/.test(pcls)) return 'colour-bar tick';
    if (/(^|\s)cbtitle/.test(pcls)) return 'colour-bar title';
    const tick = pcls.match(/(^|\s)((x|y)\d*)tick/);
    if (tick) return `${tick[2]} tick`;
    return {'annotation-text': 'annotation', legendtext: 'legend'}[cls] || cls || 'text';
};
"""

OVERFLOW_JS = (
    "selectors => {"
    + PRELUDE
    + PLOTLY_LABEL_JS
    + r"""
    const problems = [];
    const seen = new Set(), reported = new Set();
    for (const sel of selectors) {
        for (const el of deepQueryAll(sel)) {
            if (seen.has(el) || !isVisible(el)) continue;
            seen.add(el);
            const over = el.scrollWidth - el.clientWidth;
            if (over > 1) {
                reported.add(el);
                problems.push(`${describe(el)} overflows its box by ${over} px `
                    + `(scrollWidth ${el.scrollWidth} > clientWidth ${el.clientWidth})`);
            }
        }
    }
    // the boxed result of every equation: inside the viewport and not cut by a clipping box
    for (const el of deepQueryAll('.gs-eq-result')) {
        if (!isVisible(el)) continue;
        const r = el.getBoundingClientRect();
        if (r.left < -1 || r.right > innerWidth + 1) {
            problems.push(`${describe(el)} lies outside the viewport horizontally `
                + `(left ${px(r.left)}, right ${px(r.right)}, viewport width ${innerWidth})`);
            continue;
        }
        for (let a = parentOf(el); a && a.nodeType === 1; a = parentOf(a)) {
            const ox = getComputedStyle(a).overflowX;
            if (ox === 'visible') continue;
            const b = a.getBoundingClientRect();
            if (r.left < b.left - 1 || r.right > b.right + 1) {
                problems.push(`${describe(el)} is cut by ${describe(a).slice(0, 60)} `
                    + `(overflow-x ${ox}): result ${px(r.left)}..${px(r.right)}, `
                    + `box ${px(b.left)}..${px(b.right)}`);
                break;
            }
        }
    }
    // text cut short with an ellipsis (buttons, labels, tabs)
    for (const el of deepQueryAll('*')) {
        if (reported.has(el) || !(el.textContent || '').trim()) continue;
        if (getComputedStyle(el).textOverflow !== 'ellipsis') continue;
        const over = el.scrollWidth - el.clientWidth;
        if (over > 1 && isVisible(el)) {
            problems.push(`${describe(el)} is cut with an ellipsis (${over} px hidden)`);
        }
    }
    // figure texts cut at the edge of their figure (a Plotly title wider than the chart)
    const cut = (name, box, texts) => {
        for (const t of texts) {
            if (!(t.textContent || '').trim() || !isVisible(t)) continue;
            const r = t.getBoundingClientRect();
            const left = box.left - r.left, right = r.right - box.right;
            if (left > 1 || right > 1) {
                problems.push(`${name}: ${labelKind(t)} "${snippet(t)}" is cut at the figure's `
                    + `${left > 1 ? 'left' : 'right'} edge by ${px(Math.max(left, right))} px`);
            }
        }
    };
    deepQueryAll('.js-plotly-plot').forEach((gd, k) => {
        const svg = gd.querySelector('.main-svg');
        const title = gd.querySelector('.gtitle');
        const labels = Array.from(gd.querySelectorAll('text')).filter(isLabel);
        if (svg) {
            cut(`figure ${k}` + (title ? ` "${snippet(title)}"` : ''),
                svg.getBoundingClientRect(), labels);
        }
    });
    deepQueryAll('svg.gs-diagram').forEach((svg, k) => {
        cut(`diagram ${k} (svg.gs-diagram)`, svg.getBoundingClientRect(),
            Array.from(svg.querySelectorAll('text')));
    });
    return problems;
}"""
)

OVERLAP_JS = (
    "tolerance => {"
    + PRELUDE
    + PLOTLY_LABEL_JS
    + r"""
    const problems = [];
    const kind = labelKind;
    const overlaps = (label, texts) => {
        const boxes = texts
            .filter(t => (t.textContent || '').trim() !== '' && isVisible(t))
            .map(t => ({t, r: t.getBoundingClientRect()}));
        for (let i = 0; i < boxes.length; i++) {
            for (let j = i + 1; j < boxes.length; j++) {
                const a = boxes[i].r, b = boxes[j].r;
                const ix = Math.min(a.right, b.right) - Math.max(a.left, b.left);
                const iy = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
                if (ix > tolerance && iy > tolerance) {
                    const one = boxes[i].t, two = boxes[j].t;
                    problems.push(`${label}: ${kind(one)} "${snippet(one)}" and `
                        + `${kind(two)} "${snippet(two)}" `
                        + `overlap by ${px(ix)} × ${px(iy)} px`);
                }
            }
        }
    };
    deepQueryAll('.js-plotly-plot').forEach((gd, k) => {
        const title = gd.querySelector('.gtitle');
        const name = `figure ${k}` + (title ? ` "${snippet(title)}"` : '');
        overlaps(name, Array.from(gd.querySelectorAll('text')).filter(isLabel));
    });
    deepQueryAll('svg.gs-diagram').forEach((svg, k) => {
        overlaps(`diagram ${k} (svg.gs-diagram)`, Array.from(svg.querySelectorAll('text')));
    });
    return problems;
}"""
)

KEY_FIGURE_JS = (
    "([selector, minWidth, minVisible]) => {"
    + PRELUDE
    + r"""
    const el = deepQueryAll(selector).find(isVisible) || deepQueryAll(selector)[0];
    if (!el) return [`no ${selector} on the page`];
    const r = el.getBoundingClientRect();
    const problems = [];
    const visible = Math.max(0, Math.min(r.bottom, innerHeight) - Math.max(r.top, 0));
    const share = r.height > 0 ? visible / r.height : 0;
    if (!(r.top < innerHeight) || share < minVisible) {
        problems.push(`${selector} is not in the first screen: top ${px(r.top)}, height `
            + `${px(r.height)}, ${Math.round(share * 100)}% visible `
            + `in ${innerWidth}×${innerHeight} `
            + `(needs top < ${innerHeight} and ≥ ${Math.round(minVisible * 100)}%)`);
    }
    if (minWidth && r.width < minWidth) {
        problems.push(`${selector} is ${px(r.width)} px wide (needs ≥ ${minWidth} px)`);
    }
    return problems;
}"""
)

DRAWN_JS = (
    "() => {"
    + PRELUDE
    + r"""
    if (document.querySelector('[data-testid=stSkeleton], [data-stale=true]')) return false;
    const status = document.querySelector('[data-testid=stStatusWidget]');
    if (status && status.offsetParent !== null) return false;     // the "running" indicator
    return deepQueryAll('.js-plotly-plot').every(g => g.querySelector('.main-svg'));
}"""
)

MAIN_SCROLL_JS = """() => {
    const m = document.querySelector('[data-testid=stMain]');
    return m ? Math.max(m.scrollHeight, innerHeight) : document.scrollingElement.scrollHeight;
}"""


# --------------------------------------------------------------------------------------------
# Python side
# --------------------------------------------------------------------------------------------


def wait_drawn(page: Page, timeout: float = LOAD_MS, settle_ms: int = SETTLE_MS) -> None:
    """Wait until the page has finished drawing: the script is not running, no running
    indicator, no skeleton or stale element, every Plotly figure has its SVG; then settle."""
    page.wait_for_selector(APP_IDLE, state="attached", timeout=timeout)
    page.wait_for_function(DRAWN_JS, timeout=timeout, polling=100)
    page.wait_for_timeout(settle_ms)
    page.wait_for_function(DRAWN_JS, timeout=timeout, polling=100)  # no rerun started meanwhile


def open_drawn(page: Page, url: str, *, wait_for: str | None = None,
               timeout: float = LOAD_MS) -> None:  # fmt: skip
    """Open a page of the app and wait until it has finished drawing (its h1 and, when given,
    ``wait_for`` (a selector that Playwright finds through open shadow roots) attached, if it
    comes within ``COMPONENT_MS``)."""
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_selector("[data-testid=stMain] h1", state="attached", timeout=timeout)
    wait_drawn(page, timeout)
    if wait_for:
        try:
            page.wait_for_selector(wait_for, state="attached", timeout=COMPONENT_MS)
        except PlaywrightTimeoutError:
            return  # the check that needs it reports its absence by name
        wait_drawn(page, timeout)


def exception_problems(page: Page) -> list[str]:
    """An exception box on the page (its checks would measure an error page)."""
    boxes = page.locator("[data-testid=stException]").all_inner_texts()
    return [f"the page shows an exception: {' '.join(b.split())[:300]}" for b in boxes]


def overflow_problems(page: Page) -> list[str]:
    """Clipped text: text boxes whose content is wider than the box, equation results cut or
    off-screen, text cut with an ellipsis, figure labels cut at the edge of their figure."""
    return page.evaluate(OVERFLOW_JS, list(OVERFLOW_SELECTORS))


def overlap_problems(page: Page, tolerance: float = 2.0) -> list[str]:
    """Pairs of text labels of one figure (Plotly or the Step through SVG) that intersect by
    more than ``tolerance`` px in both axes."""
    return page.evaluate(OVERLAP_JS, tolerance)


def key_figure_problems(page: Page, selector: str, *, min_width: float = 0,
                        min_visible: float = 0.6) -> list[str]:  # fmt: skip
    """The first ``selector`` starts in the first screen with ≥ ``min_visible`` of its height
    visible (and is at least ``min_width`` px wide)."""
    return page.evaluate(KEY_FIGURE_JS, [selector, min_width, min_visible])


def full_screenshot(page: Page, path: Path) -> None:
    """A screenshot of the whole page. Streamlit scrolls inside ``stMain``, not the document,
    so Playwright's ``full_page`` would stop at the viewport: the viewport is made as tall as
    the content for the shot, then restored."""
    path.parent.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = int(page.evaluate(MAIN_SCROLL_JS))
    try:
        if size and height > size["height"]:
            page.set_viewport_size({"width": size["width"], "height": min(height, 16_000)})
            page.wait_for_timeout(300)
        page.screenshot(path=str(path), full_page=True)
    finally:
        if size:
            page.set_viewport_size(size)


def report(title: str, problems: list[str]) -> str:
    return f"{title}: {len(problems)} problem(s)\n  " + "\n  ".join(problems)


# --------------------------------------------------------------------------------------------
# Keyboard: the focusable controls, the focused one, its accessible name
# --------------------------------------------------------------------------------------------

FOCUS_JS_PRELUDE = r"""
const CONTROL = 'a[href], button, input, select, textarea, summary, [tabindex], '
    + '[role=slider], [role=button], [role=switch], [role=tab], [role=combobox], '
    + '[role=checkbox], [role=radio], [role=link], [role=spinbutton]';
const deepActive = () => {
    let a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    return a;
};
const region = el => {
    for (let e = el; e; e = parentOf(e)) {
        const id = e.getAttribute && e.getAttribute('data-testid');
        if (id === 'stSidebar') return 'sidebar';
        if (id === 'stMain') return 'main';
    }
    return 'page';
};
const accName = el => {                 // an approximation of the accessible name (accname 1.2)
    const root = el.getRootNode();
    const byId = id => (root.getElementById ? root.getElementById(id) : null)
        || document.getElementById(id);
    const by = (el.getAttribute('aria-labelledby') || '').trim();
    if (by) {
        const t = by.split(/\s+/).map(byId).filter(Boolean)
            .map(n => (n.getAttribute('aria-label') || n.textContent || '').trim())
            .join(' ').trim();
        if (t) return t;
    }
    const label = (el.getAttribute('aria-label') || '').trim();
    if (label) return label;
    if (el.labels && el.labels.length) {
        const t = Array.from(el.labels).map(l => l.textContent).join(' ').trim();
        if (t) return t;
    }
    const role = el.getAttribute('role') || '';
    if (/^(BUTTON|A|SUMMARY)$/.test(el.tagName)
        || /^(button|link|tab|menuitem|option|switch|checkbox|radio)$/.test(role)) {
        const t = (el.textContent || '').replace(/\s+/g, ' ').trim();
        if (t) return t;
        const img = el.querySelector('img[alt], [aria-label]');
        if (img) return (img.getAttribute('alt') || img.getAttribute('aria-label') || '').trim();
    }
    if (el.tagName === 'INPUT' && /^(button|submit|reset)$/.test(el.type) && el.value) {
        return el.value;
    }
    return (el.getAttribute('title') || el.getAttribute('placeholder') || '').trim();
};
// where a control's focus shows: the control and its label (a styled radio or checkbox draws
// its ring on the label; the transparent native input may sit elsewhere)
const focusBox = el => {
    const boxes = [el, ...(el.labels || []), el.closest('label')].filter(Boolean)
        .map(e => e.getBoundingClientRect()).filter(b => b.width > 0 && b.height > 0);
    if (!boxes.length) return el.getBoundingClientRect();
    const left = Math.min(...boxes.map(b => b.left)), top = Math.min(...boxes.map(b => b.top));
    return {left, top, width: Math.max(...boxes.map(b => b.right)) - left,
            height: Math.max(...boxes.map(b => b.bottom)) - top};
};
const isControl = el => el.matches(CONTROL) && el.getAttribute('data-testid') !== 'stMain'
    && el.tagName !== 'MAIN';
// controls that need a name (a focusable scroll region, e.g. a code block, does not)
const needsName = el => /^(A|BUTTON|INPUT|SELECT|TEXTAREA|SUMMARY)$/.test(el.tagName)
    || /^(slider|button|switch|tab|combobox|checkbox|radio|link|spinbutton)$/
        .test(el.getAttribute('role') || '');
"""

FOCUSABLES_JS = (
    "() => {"
    + PRELUDE
    + FOCUS_JS_PRELUDE
    + r"""
    // what Tab must reach: every visible, enabled control of the sidebar and the main area
    // (a radio group is one stop: its checked radio, or its first when none is checked)
    const out = [], groups = new Set();
    for (const el of deepQueryAll(CONTROL)) {
        if (!isControl(el) || el.tabIndex < 0 || el.disabled || !isVisible(el)) continue;
        if (region(el) === 'page') continue;
        if (el.type === 'radio' && el.name) {
            if (groups.has(el.name)) continue;
            const all = deepQueryAll(`input[type=radio][name="${el.name}"]`);
            const checked = all.find(r => r.checked);
            if (checked && checked !== el) continue;
            groups.add(el.name);
        }
        out.push(el);
    }
    window.__gsFocusables = out;
    return out.map(el => `${region(el)}: ${describe(el)} (${accName(el) || 'no name'})`);
}"""
)

ACTIVE_JS = (
    "() => {"
    + PRELUDE
    + FOCUS_JS_PRELUDE
    + r"""
    const el = deepActive();
    window.__gsLastFocus = el;
    if (!el || el === document.body || el === document.documentElement) return null;
    const r = focusBox(el);
    const seen = window.__gsSeen = window.__gsSeen || new Set();
    const again = seen.has(el);
    seen.add(el);
    const list = window.__gsFocusables || [];
    let index = list.indexOf(el);
    if (index < 0 && el.type === 'radio' && el.name) {      // arrow keys move a radio group
        index = list.findIndex(o => o.type === 'radio' && o.name === el.name);
    }
    return {
        index, again, control: isControl(el), named: needsName(el), region: region(el),
        name: accName(el),
        what: describe(el), rect: [r.left, r.top, r.width, r.height],
    };
}"""
)
KEEP_PREV_JS = "() => { window.__gsPrevFocus = window.__gsLastFocus; }"
LAST_BOX_JS_PREV = (
    "() => {"
    + FOCUS_JS_PRELUDE
    + r"""
    const el = window.__gsPrevFocus;
    if (!el || !el.isConnected) return null;
    const r = focusBox(el);
    return [r.left, r.top, r.width, r.height];
}"""
)

FOCUS_PAD = 6  # px around the focused control: rings and shadows are drawn outside its box
FOCUS_MIN_PIXELS = 10  # changed pixels that make a focus indicator visible...
FOCUS_MIN_DELTA = 6  # ...by more than this in grey level (0-255): a faint ring counts


def _changed_pixels(a: bytes, b: bytes) -> int:
    from PIL import Image, ImageChops

    one, two = (Image.open(io.BytesIO(x)).convert("RGB") for x in (a, b))
    if one.size != two.size:
        return one.size[0] * one.size[1]
    diff = ImageChops.difference(one, two).convert("L")
    return sum(diff.histogram()[FOCUS_MIN_DELTA + 1 :])


def _clip(page: Page, rect: list[float]) -> dict | None:
    size = page.viewport_size or {"width": 0, "height": 0}
    x0, y0 = max(0.0, rect[0] - FOCUS_PAD), max(0.0, rect[1] - FOCUS_PAD)
    x1 = min(float(size["width"]), rect[0] + rect[2] + FOCUS_PAD)
    y1 = min(float(size["height"]), rect[1] + rect[3] + FOCUS_PAD)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0}


def _shot(page: Page, clip: dict) -> bytes:
    return page.screenshot(clip=clip, animations="disabled", caret="hide")


def keyboard_walk(page: Page, max_tabs: int = 150) -> tuple[list[str], list[str], list[str]]:
    """Tab through the page from the top until focus leaves the page or comes back.

    Returns (the controls Tab must reach, the stops in order, problems): a control of the
    sidebar or the main area that Tab never reaches; a focused control without an accessible
    name; a control whose look does not change when it takes the focus (no visible focus:
    the area around it is compared while it has the focus and after Tab moved on; blurring it
    instead would make some widgets redraw and lose Tab's place)."""
    expected = page.evaluate(FOCUSABLES_JS)
    reached: set[int] = set()
    stops: list[str] = []
    problems: list[str] = []
    pending = None  # (label, clip, screenshot while focused) of the previous control

    def judge_pending() -> None:
        label, clip, focused = pending
        box = page.evaluate(LAST_BOX_JS_PREV)
        now = _clip(page, box) if box is not None else clip
        if now is None or (now["width"], now["height"]) != (clip["width"], clip["height"]):
            return  # it left the screen or changed size (the sidebar scrolled): no comparison
        if _changed_pixels(focused, _shot(page, now)) < FOCUS_MIN_PIXELS:
            problems.append(f"{label} shows no visible focus")

    for _ in range(max_tabs):
        page.evaluate(KEEP_PREV_JS)
        page.keyboard.press("Tab")
        if pending is not None:
            judge_pending()
            pending = None
        info = page.evaluate(ACTIVE_JS)
        if info is None:
            if stops:
                break  # past the last control
            continue
        if info["again"]:
            break  # focus came round again
        label = f"{info['region']}: {info['what']} ({info['name'] or 'no name'})"
        stops.append(label)
        if info["index"] >= 0:
            reached.add(info["index"])
        if not info["control"]:
            continue
        if info["named"] and not info["name"]:
            problems.append(f"{info['region']}: {info['what']} has no accessible name")
        clip = _clip(page, info["rect"])
        if clip is None:
            problems.append(f"{label} takes the focus off-screen")
        else:
            pending = (label, clip, _shot(page, clip))
    for i, what in enumerate(expected):
        if i not in reached:
            problems.append(f"Tab never reaches {what}")
    return expected, stops, problems
