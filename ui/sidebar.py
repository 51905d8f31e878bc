"""The shared sidebar: the input panel and the cell settings every page draws."""

from __future__ import annotations

import csv
from urllib.parse import urlencode

import streamlit as st

from engine.inputs import NUMERIC_PRESETS, PRESETS
from engine.lessons import REGIMES

from . import keys, session, state
from .texts import HELP, NOTATION_GRU_NOTE

INIT_LABELS = {
    "uniform": "PyTorch uniform",
    "orthogonal": "orthogonal",
    "identity": "identity",
    "normal": "scaled normal",
}
ENCODING_LABELS = {"onehot": "one-hot", "embedding": "embedding"}
CELL_LABELS = {"rnn": "RNN (vanilla)", "gru": "GRU", "lstm": "LSTM"}


def _clamp(lo, hi):
    return lambda v: min(max(v, lo), hi)


REGIME_KEEPS = ("present", "text", "numbers", "label_column", "tokens", "encoding", "dim")
"""Fields a regime lesson leaves as they are: the view mode and the learner's own input."""
_NO_REGIME = ""
_LOADED = "s__regime_loaded"  # the regime just loaded, named once in the sidebar


def regime_lesson(name: str) -> state.Lesson:
    """The lesson of a regime (:data:`engine.lessons.REGIMES`)."""
    return state.Lesson(**REGIMES[name].settings)


def regime_link(name: str) -> str:
    """A relative link to the regime's page with its lesson in the query string (a new
    session opening it loads exactly that lesson)."""
    page = keys.page(REGIMES[name].page).path.split("/")[-1].removesuffix(".py")
    url_path = page.split("_", 1)[1] if page[0].isdigit() else ""  # Streamlit's page URL
    return f"{url_path}?{urlencode(state.to_query(regime_lesson(name)))}"


def apply_regime(name: str) -> None:
    """Set every lesson field of the regime (except :data:`REGIME_KEEPS`) for the next run."""
    lesson = regime_lesson(name)
    for field in state.FIELDS:
        if field not in REGIME_KEEPS:
            session.set_value(field, getattr(lesson, field))
    st.session_state[_LOADED] = name


def _regime_chosen() -> None:
    name = st.session_state.get(keys.REGIME_SELECT)
    if name in REGIMES:
        apply_regime(name)
    st.session_state[keys.REGIME_SELECT] = _NO_REGIME  # a choice, not a lasting setting


def regime_panel() -> None:
    """A "Regime lesson" choice at the top of the sidebar: choosing one sets all its lesson
    fields (the rerun that follows draws every widget with them), then names what was loaded
    and the page that shows it best."""
    sb = st.sidebar
    sb.selectbox(
        "Regime lesson", [_NO_REGIME, *REGIMES], key=keys.REGIME_SELECT, on_change=_regime_chosen,
        format_func=lambda n: REGIMES[n].title if n in REGIMES else "Choose a regime…",
        help="Load a full set of settings for a regime the literature teaches (exploding, "
        "identity ReLU, the LSTM's constant error carousel, a GRU keeping its state); every "
        "setting can be changed afterwards.",
    )  # fmt: skip
    loaded = st.session_state.pop(_LOADED, None)
    if loaded in REGIMES:
        regime = REGIMES[loaded]
        from .layout import md_escape  # layout imports this module

        sb.success(md_escape(f"Loaded: {regime.title}."), icon="🧪")
        with sb.expander("What this regime shows"):
            st.caption(md_escape(f"{regime.explanation} ({regime.reference})"))
        sb.page_link(
            keys.page(regime.page).path, label=f"Best seen on {regime.page}",
            query_params=state.to_query(session.lesson()),
        )  # fmt: skip


def input_panel() -> None:
    """Where the sequence comes from (preset, text, numbers or CSV) and how it is encoded."""
    regime_panel()
    sb = st.sidebar
    sb.subheader("Your sequence")
    source = session.bind(
        "source", sb.radio, "Input", state.SOURCES, help=HELP["source"],
        format_func=state.SOURCE_LABELS.get, horizontal=True,
    )  # fmt: skip
    is_text = source == "text"
    if source == "preset":
        name = session.bind("preset", sb.selectbox, "Preset", list(PRESETS), help=HELP["preset"])
        sb.caption(PRESETS[name])  # plain text: st.caption renders no HTML
        is_text = name not in NUMERIC_PRESETS
    elif source == "text":
        session.bind("text", sb.text_area, "Your text", help=HELP["text"], max_chars=20000)
    elif source == "numbers":
        session.bind("numbers", sb.text_area, "Your numbers", help=HELP["numbers"], max_chars=20000)
    else:
        upload = sb.file_uploader(
            "CSV file", type=["csv", "txt"], help=HELP["csv"], key=keys.CSV_UPLOAD
        )
        if upload is not None:  # the server refuses files over server.maxUploadSize (1 MB)
            st.session_state[session.CSV] = upload.getvalue()
        _label_column_choice(sb)
    if is_text:
        cols = sb.columns(2)
        session.bind("tokens", cols[0].radio, "Tokens", state.TOKEN_UNITS, help=HELP["tokens"])
        session.bind(
            "encoding", cols[1].radio, "Encoding", state.ENCODINGS,
            format_func=ENCODING_LABELS.get, help=HELP["encoding"],
        )  # fmt: skip
        session.bind("dim", sb.slider, "Input width D", 1, 64, help=HELP["dim"])
    session.bind(
        "T", sb.number_input, "Steps T", min_value=1, max_value=state.MAX_T, step=1,
        help=HELP["T"], coerce=_clamp(1, state.MAX_T),
    )  # fmt: skip


LABEL_CHOICES = {"auto": "Automatic (time, t, step, index)", "none": "None: all are features"}


def csv_header(data: bytes | None) -> list[str]:
    """The cells of an uploaded CSV file's first row (empty when there is none or it is not
    text): the columns a learner can pick as step labels."""
    if not data:
        return []
    try:
        first = data[:20000].decode("utf-8-sig").splitlines()[0]
    except (UnicodeDecodeError, IndexError):
        return []
    names = next(csv.reader([first]), [])
    return [n.strip() for n in names if n.strip() and n.strip() not in LABEL_CHOICES][:64]


def _label_column_choice(sb) -> None:
    options = list(LABEL_CHOICES) + csv_header(st.session_state.get(session.CSV))
    current = session.value("label_column")
    if current not in options:  # a link's column name, before its file is uploaded again
        options.append(current)
    session.bind(
        "label_column", sb.selectbox, "Step labels from column", options,
        format_func=lambda v: LABEL_CHOICES.get(v, v), help=HELP["label_column"],
    )  # fmt: skip


def cell_panel(*, choose_cell: bool) -> None:
    """The cell settings; ``choose_cell`` where the page shows a single cell."""
    sb = st.sidebar
    sb.subheader("The cell")
    if choose_cell:
        session.bind(
            "cell", sb.radio, "Cell", state.CHOICES["cell"], format_func=CELL_LABELS.get,
            help=HELP["cell"], horizontal=True,
        )  # fmt: skip
    notation = session.bind(
        "notation", sb.selectbox, "Notation", state.NOTATIONS,
        format_func=state.NOTATION_LABELS.get, help=HELP["notation"],
    )  # fmt: skip
    gru_shown = not choose_cell or session.value("cell") == "gru"
    if notation != "pytorch" and gru_shown and not session.value("trained"):
        sb.caption(NOTATION_GRU_NOTE.format(name=state.NOTATION_LABELS[notation]))
    session.bind(
        "H", sb.slider, "Hidden units H", 1, state.MAX_H, help=HELP["H"],
        coerce=_clamp(1, state.MAX_H),
    )  # fmt: skip
    session.bind(
        "seed", sb.number_input, "Seed", min_value=0, max_value=2**31 - 1, step=1,
        help=HELP["seed"],
    )  # fmt: skip
    session.bind(
        "init", sb.selectbox, "Recurrent init", state.CHOICES["init"],
        format_func=INIT_LABELS.get, help=HELP["init"],
    )  # fmt: skip
    session.bind("scale", sb.slider, "Recurrent scale", 0.0, 10.0, step=0.05, help=HELP["scale"])
    cell = session.value("cell")
    if not choose_cell or cell == "lstm":
        session.bind(
            "forget_bias", sb.slider, "LSTM forget bias", -10.0, 10.0, step=0.5,
            help=HELP["forget_bias"],
        )  # fmt: skip
    if not choose_cell or cell == "gru":
        session.bind(
            "update_bias", sb.slider, "GRU update bias", -10.0, 10.0, step=0.5,
            help=HELP["update_bias"],
        )  # fmt: skip
    if not choose_cell or cell == "rnn":
        session.bind(
            "activation", sb.radio, "RNN activation", state.ACTIVATIONS, horizontal=True,
            help=HELP["activation"],
        )  # fmt: skip


def presentation_toggle() -> bool:
    return session.bind("present", st.sidebar.toggle, "Presentation mode", help=HELP["present"])
