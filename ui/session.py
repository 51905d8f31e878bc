"""Keep the lesson in agreement between widgets, session state and the URL.

Streamlit forgets a widget's value when the page that drew it is left, so every widget of the
lesson has two keys: the widget key ``w_<field>`` and a plain session-state key ``s_<field>``
that survives page switches. A change by the learner reaches ``s_`` in the widget's
``on_change``; before a widget is drawn its value is set from ``s_``. On a session's first run
the ``s_`` keys are filled from the query string (validated and clamped, with a notice for what
was fixed); on every run the query string is rewritten from the lesson, so the address bar is
always a shareable link.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from . import state
from .state import Lesson

READY = "s__ready"
NOTICES = "s__notices"
CSV = "s__csv"  # the uploaded CSV bytes (never carried in a link)
URL_STEP = "s__url_step"  # whether the session's first link named a step


def widget_key(name: str) -> str:
    return f"w_{name}"


def _store_key(name: str) -> str:
    return f"s_{name}"


def start() -> None:
    """On a session's first run, load the lesson from the URL (once per session)."""
    if st.session_state.get(READY):
        return
    lesson, notices = state.from_query(st.query_params.to_dict())
    for name in state.FIELDS:
        st.session_state[_store_key(name)] = getattr(lesson, name)
    st.session_state[NOTICES] = notices
    st.session_state[URL_STEP] = "step" in st.query_params
    st.session_state[READY] = True


def value(name: str) -> Any:
    """The current (persisted) value of a lesson field."""
    return st.session_state.get(_store_key(name), getattr(state.DEFAULT, name))


def set_value(name: str, v: Any) -> None:
    """Set a lesson field from code (e.g. the step buttons); the widget follows."""
    st.session_state[_store_key(name)] = v


def _persist(name: str) -> None:
    """on_change: the learner moved a widget; the persisted value follows before the rerun."""
    st.session_state[_store_key(name)] = st.session_state[widget_key(name)]


def bind(name: str, draw, *args, coerce=None, **kwargs):
    """Draw a widget for a lesson field with its value restored, and persist what it returns.

    ``draw`` is a Streamlit widget function (``st.selectbox``, ``st.sidebar.slider``...);
    ``coerce`` may clamp the persisted value into the widget's current range first. The
    widget's value is always set from the persisted one before it is drawn (Streamlit drops a
    widget's own state when another page draws it), and a change by the learner reaches the
    persisted value first, through ``on_change``.
    """
    restored = value(name)
    st.session_state[widget_key(name)] = coerce(restored) if coerce else restored
    result = draw(*args, key=widget_key(name), on_change=_persist, args=(name,), **kwargs)
    st.session_state[_store_key(name)] = result
    return result


def lesson() -> Lesson:
    """The validated lesson from the persisted values."""
    current, _ = state.clean({name: value(name) for name in state.FIELDS})
    return current


def publish(current: Lesson) -> None:
    """Rewrite the query string from the lesson (Streamlit clears it on page change)."""
    query = state.to_query(current)
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)


def take_notices() -> list[str]:
    """Notices about a tampered link, shown once."""
    return st.session_state.pop(NOTICES, [])
