"""Keep the lesson in agreement between widgets, session state and the URL.

Streamlit forgets a widget's value when the page that drew it is left, so every widget of the
lesson has a widget key ``w_<field>``, and its persisted value lives in one plain
session-state dict, :data:`LESSON` (field → value), that survives page switches. A change by
the learner reaches the dict in the widget's ``on_change``; before a widget is drawn its value
is set from the dict. On a session's first run the dict is filled from the query string
(validated and clamped, with a notice for what was fixed); on every run the query string is
rewritten from the lesson, so the address bar is always a shareable link.

One key for the whole lesson, not one per field: every Streamlit widget call copies the whole
session state (``filtered_state``, each key read through ``__getitem__``), so each extra key
costs on every widget of every rerun (issue 12).
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
LESSON = "s__lesson"  # the persisted lesson: field name -> value


def widget_key(name: str) -> str:
    return f"w_{name}"


def _store() -> dict[str, Any]:
    """The persisted lesson values (created empty if the session has none yet)."""
    kept = st.session_state.get(LESSON)
    if kept is None:
        kept = st.session_state[LESSON] = {}
    return kept


def stored(app, name: str) -> Any:
    """The persisted value of a lesson field in an app's session (a ``streamlit`` ``AppTest``)."""
    return app.session_state[LESSON][name]


def start() -> None:
    """On a session's first run, load the lesson from the URL (once per session)."""
    if st.session_state.get(READY):
        return
    lesson, notices = state.from_query(st.query_params.to_dict())
    st.session_state[LESSON] = {name: getattr(lesson, name) for name in state.FIELDS}
    st.session_state[NOTICES] = notices
    st.session_state[URL_STEP] = "step" in st.query_params
    st.session_state[READY] = True


def value(name: str) -> Any:
    """The current (persisted) value of a lesson field."""
    return _store().get(name, getattr(state.DEFAULT, name))


def set_value(name: str, v: Any) -> None:
    """Set a lesson field from code (e.g. the step buttons); the widget follows."""
    _store()[name] = v


def _persist(name: str) -> None:
    """on_change: the learner moved a widget; the persisted value follows before the rerun."""
    _store()[name] = st.session_state[widget_key(name)]


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
    _store()[name] = result
    return result


def lesson() -> Lesson:
    """The validated lesson from the persisted values."""
    kept = _store()
    current, _ = state.clean({n: kept.get(n, getattr(state.DEFAULT, n)) for n in state.FIELDS})
    return current


def publish(current: Lesson) -> None:
    """Rewrite the query string from the lesson (Streamlit clears it on page change)."""
    query = state.to_query(current)
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)


def take_notices() -> list[str]:
    """Notices about a tampered link, shown once."""
    return st.session_state.pop(NOTICES, [])
