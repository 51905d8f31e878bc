"""The lesson exporter (``python -m lesson``): arguments, errors, contents, escaping, size."""

from __future__ import annotations

import dataclasses
import gzip
import html
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from plotly.offline import get_plotlyjs
from test_figures_time import decode

import engine
from engine.cells import GRAD_LIMIT
from figures.style import fmt_grad
from lesson import DEFAULT, Settings, app_link, build_html, query
from lesson.__main__ import main
from lesson.build import MEASURE_LABELS, bound_sentence
from lesson.compute import compare, run, sequence
from ui import state

ROOT = Path(__file__).resolve().parents[1]
TARGET_GZ = 2_000_000  # the target for the default lesson, gzipped
URL = re.compile(r"https?://[^\s\"'<>)\\]+")
NAMESPACES = ("http://www.w3.org/2000/svg", "http://www.w3.org/1998/Math/MathML")
"""XML namespace names (ui/timeline.js, the equations' MathML): identifiers, never fetched."""


@pytest.fixture(scope="module")
def default_page() -> str:
    return build_html(DEFAULT)


def _data(page: str) -> dict:
    blob = page.split('<script type="application/json" id="ls-data">', 1)[1].split("</script>")[0]
    return json.loads(blob)


def _own_part(page: str) -> str:
    """The file without the embedded plotly.js bundle (which is plotly's, verbatim)."""
    js = get_plotlyjs()
    assert page.count(js) == 1, "plotly.js must be embedded exactly once"
    return page.replace(js, "")


def _urls(page: str) -> set[str]:
    """Every http(s) URL in the file outside plotly.js, namespace names left out."""
    own = _own_part(page)
    for ns in NAMESPACES:
        own = own.replace(ns, "")
    return set(URL.findall(own))


def test_cli_writes_the_file(tmp_path, capsys):
    out = tmp_path / "wallet.html"
    assert main(["--preset", "Allergy (text)", "--cell", "gru", "--H", "8", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    data = _data(page)
    # Allergy in Gates over time for the GRU, H = 8 everywhere
    assert "Gates over time · GRU" in page and data["first"] == "gru-forward"
    assert {t["H"] for t in data["timelines"].values()} == {8}
    assert "wrote" in capsys.readouterr().err


def test_python_dash_m_runs_from_any_folder(tmp_path):
    out = tmp_path / "numbers.html"
    done = subprocess.run(
        [sys.executable, "-m", "lesson", "--numbers", "1 0 0 0 0 0", "--seed", "3", "--out",
         str(out)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _data(out.read_text(encoding="utf-8"))["timelines"]["rnn-forward"]["T"] == 6


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--preset", "Nope"], "invalid choice"),
        (["--H", "0"], "not between 1 and 256"),
        (["--H", "sixteen"], "not a whole number"),
        (["--cell", "transformer"], "invalid choice"),
        (["--text", "a", "--numbers", "1"], "not allowed with"),
        (["--text", "   "], "empty"),
        (["--numbers", "1, two, 3"], "two"),
        (["--unit", "16"], "unit must be below H = 16"),
        (["--out", "/no/such/folder/x.html"], "does not exist"),
        (["--app-url", "javascript:alert(1)"], "must start with http"),
    ],
)
def test_bad_input_is_a_clear_error_with_exit_code_2(argv, message, tmp_path, capsys):
    if "--out" not in argv:
        argv = [*argv, "--out", str(tmp_path / "x.html")]
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x.html").exists()


def test_the_file_holds_every_section(default_page):
    page = default_page
    for ident in ("ls-step", "ls-gates", "ls-vg", "ls-settings", "ls-app-link", "ls-takeaway",
                  "ls-theory", "ls-why"):  # fmt: skip
        assert f'id="{ident}"' in page, ident
    data = _data(page)
    # a timeline per cell and direction, each the figures.timeline payload of the run
    assert sorted(data["timelines"]) == sorted(
        f"{c}-{m}" for c in engine.CELLS for m in ("forward", "backward")
    )
    for key, t in data["timelines"].items():
        assert (t["cell"], t["mode"]) == tuple(key.split("-")) and t["T"] == 15
    names = re.findall(r'data-name="(\w+)"', page)
    assert names == [
        "gate_heatmaps",
        "step_bars",
        "unit_lines",
        "saturation_strip",
        "gradient_strips",
        "gradient_vs_lag",
        "lstm_path",
        "gru_path",
        "why_factors",
    ]
    for name in names:  # each figure has its JSON, with a title
        blob = page.split(f'-{name}-json">', 1)[1].split("</script>")[0]
        assert json.loads(blob)["layout"]["title"]["text"], name
    # the component's own JS and CSS, inlined (links to ui/'s files, not copies that could drift)
    for name in ("timeline.js", "timeline.css"):
        assert (ROOT / "lesson" / name).resolve() == ROOT / "ui" / name
    assert (ROOT / "ui" / "timeline.css").read_text(encoding="utf-8") == data["css"]
    assert "class Timeline" in page and "export default" not in _own_part(page)
    # every setting is listed
    table = page.split('id="ls-settings"', 1)[1]
    for name in ("source", "input", *[f.name for f in dataclasses.fields(Settings)]):
        if name not in ("preset", "text", "numbers"):
            assert f"<th scope='row'>{name}</th>" in table, name


def test_texts_are_computed_from_the_run(default_page):
    seq, _ = sequence(DEFAULT)
    runs = {c: run(DEFAULT, seq, c) for c in engine.CELLS}
    cmp = compare(DEFAULT, runs)
    # the RNN's curve is exactly engine.jacobian_norms, and the bound really bounds it here
    assert (cmp.curves["rnn"] == engine.jacobian_norms(runs["rnn"].trace, "x")).all()
    assert cmp.bound_holds and (cmp.curves["rnn"] <= cmp.bound * (1 + 1e-9)).all()
    sentence = bound_sentence(cmp)
    assert f"σ_max(W_hh) = {cmp.sigma_max:.3f}" in sentence and "holds at every lag" in sentence
    assert "upper bound" in sentence
    assert sentence.replace("&", "&amp;").replace("'", "&#x27;") in default_page


def test_exploding_relu_rnn_is_called_overflow_not_vanishing():
    s = dataclasses.replace(DEFAULT, activation="relu", scale=10.0, init="identity",
                            source="numbers", numbers=" ".join(["50"] * 200), T=200)  # fmt: skip
    seq, _ = sequence(s)
    cmp = compare(s, {c: run(s, seq, c) for c in engine.CELLS})
    assert cmp.rnn_overflow is not None
    sentence = bound_sentence(cmp)
    assert "overflowed from step" in sentence and "must vanish" not in sentence
    assert "10¹⁰⁰" in build_html(s)


def test_no_url_but_the_link_back_to_the_app(default_page):
    assert _urls(default_page) == {app_link(DEFAULT)} == {"http://localhost:8501/"}
    own = _own_part(default_page)
    assert "Content-Security-Policy" in own and "default-src 'none'" in own
    other = build_html(dataclasses.replace(DEFAULT, cell="gru", H=32), app_url="https://a.b/c/")
    assert _urls(other) == {"https://a.b/c/?cell=gru&amp;H=32"}


def test_user_text_is_escaped():
    evil = '<script>alert("x")</script> & <img src=x onerror=alert(1)> «ok»'
    page = build_html(dataclasses.replace(DEFAULT, source="text", text=evil, tokens="words"))
    own = _own_part(page)
    assert "<script>alert" not in own and "<img" not in own and "onerror=alert(1)>" not in own
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img" in own  # the title
    # inside the data, the tokens are JSON with <, > and & escaped, and read back intact
    tokens = _data(page)["timelines"]["lstm-forward"]["tokens"]
    assert tokens[:3] == ["<", "script", ">"] and "\\u003c" in own


def test_the_link_is_the_apps_own_query_string():
    cases = [
        DEFAULT,
        dataclasses.replace(DEFAULT, cell="gru", H=32, seed=7, forget_bias=2.5, activation="relu"),
        dataclasses.replace(DEFAULT, source="text", text="a b & c", encoding="embedding", dim=8),
        dataclasses.replace(DEFAULT, source="numbers", numbers="1 2 3", T=3, update_bias=-1.0),
        dataclasses.replace(DEFAULT, source="text", text="x " * 1500),  # too long for a link
    ]
    for s in cases:
        lesson = state.Lesson(**dataclasses.asdict(s))
        assert query(s) == state.to_query(lesson), s
    for s in cases[:-1]:  # the app reads the link back as the same lesson
        assert state.from_query(query(s)) == (state.Lesson(**dataclasses.asdict(s)), [])


def test_settings_share_the_apps_names_and_defaults():
    for f in dataclasses.fields(Settings):
        assert getattr(DEFAULT, f.name) == getattr(state.DEFAULT, f.name), f.name


def test_measures_and_a_long_numeric_preset():
    s = dataclasses.replace(DEFAULT, preset="Impulse", T=400, measure="bptt", H=8)
    page = build_html(s)
    data = _data(page)
    assert len(data["timelines"]["rnn-forward"]["frames"]) == 200  # an even subsample
    assert "evenly spaced steps" in page and MEASURE_LABELS["bptt"] in page


def test_default_lesson_fits_the_size_target(default_page):
    raw = default_page.encode()
    gz = len(gzip.compress(raw, 9))
    own = len(gzip.compress(_own_part(default_page).encode(), 9))
    assert gz <= TARGET_GZ, f"{gz:,} bytes gzipped"
    assert own < 300_000, f"the lesson's own part is {own:,} bytes gzipped"


def _figure(page: str, name: str) -> dict:
    return json.loads(page.split(f'-{name}-json">', 1)[1].split("</script>")[0])


def test_a_gru_gradient_clipped_at_the_cap_reads_overflow_in_the_file():
    # tests/test_capped.py's GRU case, exported: the file uses the app's core, clip rule included
    s = dataclasses.replace(DEFAULT, preset="Impulse", T=2000, scale=10.0, update_bias=-10.0,
                            measure="h")  # fmt: skip
    seq, _ = sequence(s)
    cmp = compare(s, {c: run(s, seq, c) for c in engine.CELLS})
    raw = engine.jacobian_norms(run(s, seq, "gru").trace, "h")[cmp.first :]
    last = np.flatnonzero(raw >= GRAD_LIMIT)[-1]  # the latest step whose gradient was clipped
    assert np.any(raw[: last + 1] < GRAD_LIMIT)  # numbers the clipping left, which must not show
    fig = _figure(build_html(s), "gradient_vs_lag")
    gru = next(t for t in fig["data"] if t["name"].startswith("GRU"))
    assert gru["name"] == "GRU (overflow)"
    hover = gru["text"][::-1]  # oldest step first, as raw
    # from the latest clipped step back every step reads overflow, drawn at the 1e100 cap
    assert all(h.endswith("· overflow") for h in hover[: last + 1])
    assert np.all(decode(gru["y"])[::-1][: last + 1] == GRAD_LIMIT)
    # after it, the engine's own values
    assert hover[last + 1 :] == [
        h.rsplit(" · ", 1)[0] + f" · {fmt_grad(float(v))}"
        for h, v in zip(hover[last + 1 :], raw[last + 1 :], strict=True)
    ]


# --- the lesson file in the learner's notation (issue 11's --notation) ---------------------------

NOTATIONS = ("pytorch", "dlai", "cho")
TEXT_KEYS = ("label", "hover", "lhs", "symbolic", "caption", "substepLabels", "cellName",
             "ladderTitle", "stripsTitle")  # fmt: skip


@pytest.fixture(scope="module")
def notation_pages() -> dict[str, str]:
    return {n: build_html(dataclasses.replace(DEFAULT, notation=n)) for n in NOTATIONS}


def _words(obj) -> str:
    """Every text the timeline shows (labels, hovers, MathML with its entities read, captions),
    not its element ids or colour codes."""
    out = []

    def walk(o, shown=False):
        if isinstance(o, dict):
            for k, v in o.items():
                walk(v, shown or k in TEXT_KEYS)
        elif isinstance(o, list):
            for v in o:
                walk(v, shown)
        elif isinstance(o, str) and shown:
            out.append(html.unescape(o))

    walk(obj)
    return "\n".join(out)


def test_settings_take_the_notation_like_the_lesson():
    from lesson.settings import rows

    assert DEFAULT.notation == state.DEFAULT.notation == "pytorch"
    with pytest.raises(engine.InputError, match="notation 'greek' is not one of: pytorch, dlai"):
        build_html(dataclasses.replace(DEFAULT, notation="greek"))
    table = dict(rows(dataclasses.replace(DEFAULT, notation="cho")))
    assert table["notation"] == "Cho 2014 / colah (cho)"
    assert table["GRU model"].startswith("reset before the product")
    assert dict(rows(DEFAULT))["GRU model"].startswith("reset after the product (PyTorch")


@pytest.mark.parametrize("notation", ["dlai", "cho"])
def test_the_link_back_carries_the_notation(notation):
    s = dataclasses.replace(DEFAULT, notation=notation, cell="gru")
    assert query(s) == {"cell": "gru", "notation": notation}
    assert f"notation={notation}" in app_link(s, "http://example.org/")
    assert state.from_query(query(s)) == (state.Lesson(**dataclasses.asdict(s)), [])
    assert "notation" not in query(DEFAULT)


def test_each_notations_symbols_in_the_timelines(notation_pages):
    from figures import notation as nt

    for notation, page in notation_pages.items():
        timelines = _data(page)["timelines"]
        for key, tl in timelines.items():
            cell = key.split("-")[0]
            assert tl["notation"] == notation, key
            words = _words(tl)
            for q in ("h", "h_prev", *engine.cells.GATES[cell]):
                q = nt.shown(notation, cell, q)
                mine, torch = nt.usym(notation, cell, q), nt.usym("pytorch", cell, q)
                assert mine in words, (key, q, mine)
                if mine != torch:
                    assert torch not in words, (notation, key, q, torch)
    dlai = _words(_data(notation_pages["dlai"])["timelines"]["lstm-forward"])
    assert "Γ" in dlai and "a⟨t⟩" in dlai and "<mi>Γ</mi>" in dlai  # the MathML too
    assert "h_t" not in dlai and "f_t" not in dlai
    cho = _words(_data(notation_pages["cho"])["timelines"]["lstm-forward"])
    assert "C_t" in cho and "c_t" not in cho and "Γ" not in cho


def test_the_file_says_which_gru_ran(notation_pages):
    for notation, page in notation_pages.items():
        caption = _data(page)["timelines"]["gru-forward"]["caption"]
        table = page.split('id="ls-settings"', 1)[1]
        if notation == "pytorch":
            assert "reset-before" not in caption and "PyTorch&#x27;s equations)" in page
            assert "reset after the product" in table
        else:
            assert "This GRU is the reset-before model" in caption
            assert "reset before the product" in table and "a different model" in table
            assert "the GRU is the reset-before model" in page
        assert ("Γu = 1 − z" in caption) == (notation == "dlai")
        assert "reset-before" not in _data(page)["timelines"]["lstm-forward"]["caption"]


TERM = re.compile(r"[+−]\s?\d+\.\d+")  # a signed term of a ladder line ("+ 0.08")
NUMBER = re.compile(r"[+−]?\d+\.\d+(?:×10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)?|(?<== )[+−]?\d+")  # in a note


def _numbers(tl: dict):
    """What a timeline shows as numbers (the ladder's terms follow each notation's order, so
    they are compared as a set per line)."""
    tl = json.loads(json.dumps(tl, ensure_ascii=False))  # tuples as the file's lists
    return (
        {k: tl["diagram"][k] for k in ("fill", "text", "widths", "sizes")},
        [(r["name"], r["result"], [sorted(x.replace(" ", "") for x in TERM.findall(" ".join(f)))
                                  for f in r["numbers"]])
         for r in tl["ladder"]],
        [(s["name"], s["codes"]) for s in tl["strips"]],
        tl["frames"], tl["tokens"], [NUMBER.findall(f) for f in tl["factor"] or []], tl["alerts"],
    )  # fmt: skip


def test_lstm_and_rnn_numbers_do_not_depend_on_the_notation(notation_pages):
    data = {n: _data(p)["timelines"] for n, p in notation_pages.items()}
    for key in data["pytorch"]:
        if key.startswith("gru"):
            continue
        assert _numbers(data["dlai"][key]) == _numbers(data["pytorch"][key]), key
        assert _numbers(data["cho"][key]) == _numbers(data["pytorch"][key]), key
    seq, _ = sequence(DEFAULT)
    ref = run(DEFAULT, seq, "lstm").trace
    for n in ("dlai", "cho"):
        other = run(dataclasses.replace(DEFAULT, notation=n), seq, "lstm").trace
        assert np.array_equal(other.h, ref.h) and np.array_equal(other.c, ref.c)
    # the gradient figures' numbers too (their symbols are figures/gradients.py's)
    for name in ("gradient_vs_lag", "lstm_path"):
        assert (
            _figure(notation_pages["dlai"], name)["data"][0]["y"]
            == _figure(notation_pages["pytorch"], name)["data"][0]["y"]
        ), name


def test_the_dlai_gru_is_the_engines_reset_before_model(notation_pages):
    from figures.timeline import timeline_data
    from lesson.compute import params_for

    s = dataclasses.replace(DEFAULT, notation="dlai")
    seq, _ = sequence(s)
    params = params_for(s, "gru", seq.D)
    want = engine.forward("gru", params, seq.values, gru_reset="before")
    got = run(s, seq, "gru").trace
    assert got.gru_reset == "before"
    assert np.array_equal(got.h, want.h)
    after = engine.forward("gru", params, seq.values)
    assert not np.allclose(after.h, want.h)  # a different model, so the check can fail
    grads = engine.backward(want, engine.theory.last_step_seed(want))
    for mode, step in (("forward", 0), ("backward", want.T - 1)):
        shown = _data(notation_pages["dlai"])["timelines"][f"gru-{mode}"]
        ref = timeline_data(want, grads, seq.labels, unit=0, mode=mode, step=step,
                            notation="dlai")  # fmt: skip
        assert _numbers(shown) == _numbers(ref), mode
        pytorch = _data(notation_pages["pytorch"])["timelines"][f"gru-{mode}"]
        assert _numbers(pytorch) != _numbers(ref), mode


@pytest.mark.parametrize("notation", NOTATIONS)
def test_cli_writes_the_notation(notation, tmp_path):
    out = tmp_path / "n.html"
    assert main(["--notation", notation, "--H", "4", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert {t["notation"] for t in _data(page)["timelines"].values()} == {notation}
    assert (f"notation={notation}" in page) == (notation != "pytorch")


def test_cli_rejects_an_unknown_notation(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--notation", "greek", "--out", str(tmp_path / "x.html")])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "--notation: invalid choice: 'greek'" in err and "'dlai'" in err
    assert "Traceback" not in err and not (tmp_path / "x.html").exists()


def test_gates_over_time_in_the_notation(notation_pages):
    from figures import gates

    seq, _ = sequence(DEFAULT)
    for notation, page in notation_pages.items():
        trace = run(dataclasses.replace(DEFAULT, notation=notation), seq, DEFAULT.cell).trace
        notice = page.split('id="ls-gates-notice">', 1)[1].split("</p>")[0]
        assert html.unescape(notice) == "<strong>What to notice:</strong> " + (
            gates.what_to_notice(trace, notation=notation)
        )
        for name in ("gate_heatmaps", "step_bars", "unit_lines", "saturation_strip"):
            words = json.dumps(_figure(page, name), ensure_ascii=False)
            assert ("Γ" in words) == (notation == "dlai"), (notation, name)
            caption = gates.how_to_read(name, trace, notation=notation)
            assert html.escape(caption) in page, (notation, name)


def test_the_measures_are_the_apps_in_every_notation():
    from lesson.build import MEASURE_TEMPLATES, measure_label

    assert MEASURE_TEMPLATES == state.MEASURE_TEMPLATES
    for n in NOTATIONS:
        assert {m: measure_label(m, n) for m in MEASURE_TEMPLATES} == state.measure_labels(n)


def test_vanishing_gradients_in_the_notation():
    from figures import gradients

    for n in NOTATIONS:
        s = dataclasses.replace(DEFAULT, notation=n, measure="bptt")
        page = build_html(s)
        seq, _ = sequence(s)
        cmp = compare(s, {c: run(s, seq, c) for c in engine.CELLS})
        theory = html.unescape(page.split('id="ls-theory">', 1)[1].split("</p>")[0])
        assert theory == bound_sentence(cmp, n)
        w = gradients.recurrent_weight(n)
        assert f"σ_max({w}) = {cmp.sigma_max:.3f}" in theory
        assert ("W_hh" in theory) == (n == "pytorch") and ("a⟨t⟩" in theory) == (n == "dlai")
        for name, how in (("gradient_strips", "gradient_strips"), ("lstm_path", "path_split"),
                          ("why_factors", "why_factors")):  # fmt: skip
            assert f"<figcaption>{html.escape(gradients.how_to_read(how, n))}<" in page, name
        for cell in ("lstm", "gru"):
            names = [t["name"] for t in _figure(page, f"{cell}_path")["data"]]
            assert set(gradients.path_names(cell, n)) <= set(names), (n, cell, names)
        lag = [t["name"] for t in _figure(page, "gradient_vs_lag")["data"]]
        c = {"pytorch": "c_t", "dlai": "c⟨t⟩", "cho": "C_t"}[n]
        assert f"LSTM ‖dL/d{c}‖" in lag, lag
        why = html.unescape(page.split('id="ls-why">', 1)[1].split("</p>")[0])
        assert gradients.derivative(cmp.nonlinearity, n)[0] in why
        memory = html.unescape(page.split('id="ls-memory">', 1)[1].split("</p>")[0])
        gru, lstm = (run(s, seq, c).trace.gates for c in ("gru", "lstm"))
        want = gradients.gate_memory_sentence(gru["z"], lstm["f"], lag=seq.T - cmp.first - 1,
                                              notation=n)  # fmt: skip
        assert memory.endswith(want) and ("Γu" in want) == (n == "dlai")


def test_the_file_s_timelines_carry_the_app_s_sub_step_guides():
    from figures.guides import substep_guides

    for notation in ("pytorch", "dlai"):
        s = Settings(notation=notation)
        page = build_html(s)
        for cell in ("rnn", "gru", "lstm"):
            guides = substep_guides(
                cell, "tanh", notation, "after" if notation == "pytorch" else "before"
            )
            assert guides["all"] and all(text for text in guides.values())
            assert (
                html.escape(guides["all"])[:60] in page or json.dumps(guides["all"])[1:61] in page
            )
