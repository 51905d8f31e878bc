"""The shared sidebar: the input panel and the cell settings every page draws."""

from __future__ import annotations

import csv

import streamlit as st

from engine.inputs import NUMERIC_PRESETS, PRESETS

from . import keys, session, state
from .texts import HELP

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


def input_panel() -> None:
    """Where the sequence comes from (preset, text, numbers or CSV) and how it is encoded."""
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
