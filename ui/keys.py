"""Every page and every widget key of the app, in one place.

Lesson fields have two keys each (``w_<field>`` for the widget, ``s_<field>`` for the value
that survives page switches: :mod:`ui.session`); the keys below are the rest. A page's own
widgets carry the page's prefix (``home_``, ``step_``, ``gates_``, ``vg_``, ``reset_``,
``train_``).
"""

from __future__ import annotations

from typing import NamedTuple


class Page(NamedTuple):
    path: str
    label: str
    icon: str


PAGES = (
    Page("app.py", "Home", "🏠"),
    Page("pages/1_Step_through.py", "Step through", "🔍"),
    Page("pages/2_Gates_over_time.py", "Gates over time", "🎚️"),
    Page("pages/3_Vanishing_gradients.py", "Vanishing gradients", "📉"),
    Page("pages/5_GRU_reset.py", "GRU reset placement", "🔀"),
    Page("pages/4_Train.py", "Train", "🏋️"),
)
"""The pages, in the order of the navigation."""


def page(label: str) -> Page:
    """The page with this label."""
    return next(p for p in PAGES if p.label == label)


# The shared frame
LEAVE_PRESENT = "w_leave_present"
CSV_UPLOAD = "w_csv"

# Regime lessons: the sidebar's choice and Home's buttons (``home_regime_<name>``)
REGIME_SELECT = "w_regime"
HOME_REGIME = "home_regime_"

# Home
HOME_HERO = "home_hero"
HOME_BACKWARD = "home_backward"
HOME_DOWNLOADS = "home"

# Step through
STEP_TIMELINE = "step_timeline"
STEP_SHOW_CODE = "step_show_code"
STEP_DOWNLOADS = "step"
STEP_CHECK = "step_check"
STEP_CHECK_NOW = "step_check_now"

# Gates over time
GATES_HEATMAPS = "gates_heatmaps"
GATES_BARS = "gates_bars"
GATES_UNIT = "gates_unit"
GATES_SATURATION = "gates_saturation"
GATES_DOWNLOADS = "gates"

# Vanishing gradients
VG_STRIPS = "vg_strips"
VG_LAG = "vg_lag"
VG_LSTM_PATH = "vg_lstm_path"
VG_GRU_PATH = "vg_gru_path"
VG_WHY = "vg_why"
VG_WHY_LAG = "vg_lag_k"
VG_DOWNLOADS = "vg"
VG_CHECK = "vg_check"
VG_CHECK_CELL = "vg_check_cell"
VG_CHECK_LAG = "vg_check_lag"

# Train
TRAIN_START = "train_start"
TRAIN_STOP = "train_stop"
TRAIN_TASK = "train_task"
TRAIN_LAG = "train_lag"
TRAIN_CELLS = "train_cells"
TRAIN_STEPS = "train_steps"
TRAIN_GATE_CELL = "train_gate_cell"
TRAIN_DOWNLOADS = "train"
TRAIN_REPLAY = "train_replay"
TRAIN_OPEN_TRAINED = "train_open_trained"

# Trained cells (the banner on every page that shows them)
TRAINED_BACK = "trained_back"


def train_chart(kind: str, which) -> str:
    """The key of a Train chart: ``train_<kind>_<which>`` (loss, grad, lag, gates)."""
    return f"train_{kind}_{which}"


def lesson_download(prefix: str) -> str:
    """The key of a page's "Download this lesson (HTML)" button: ``<prefix>_dl_html`` (beside
    its ``_dl_csv`` and ``_dl_json`` buttons)."""
    return f"{prefix}_dl_html"


# GRU reset placement
RESET_LAG = "reset_lag"
RESET_GATES = "reset_gates"
RESET_HEATMAPS = "reset_heatmaps_"  # + "after" / "before"
RESET_UPLOAD = "reset_upload"
RESET_FORGET = "reset_forget"
RESET_LOADED_GATES = "reset_loaded_gates"
RESET_LOADED_LAG = "reset_loaded_lag"
RESET_DOWNLOADS = "reset"
