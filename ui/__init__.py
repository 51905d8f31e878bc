"""Streamlit helpers shared by the pages: the lesson state, the sidebar, cached runs, texts.

Imports flow one way: engine -> figures -> ui -> pages.
"""

from . import runtime  # noqa: F401 - first: one BLAS thread however the app was started
from .layout import (
    chart,
    compare_or_stop,
    downloads,
    md_escape,
    notice_subsampled,
    page,
    run_or_stop,
    sequence_or_stop,
    show_input_error,
)

__all__ = [
    "downloads",
    "chart",
    "compare_or_stop",
    "md_escape",
    "notice_subsampled",
    "page",
    "run_or_stop",
    "sequence_or_stop",
    "show_input_error",
]
