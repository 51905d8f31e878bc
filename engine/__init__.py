"""gatescope's engine: exact NumPy RNN, GRU and LSTM with BPTT and Jacobian norms.

Pure NumPy, float64, PyTorch's equations and parameter layout. The public contract is
``shared/ENGINE_API.md``; everything a page, a figure, a notebook or a test needs is importable
from here::

    from engine import init_params, forward, backward, jacobian_norms
"""

from .cells import (
    GATES,
    gru_step_backward,
    gru_step_forward,
    lstm_step_backward,
    lstm_step_forward,
    rnn_step_backward,
    rnn_step_forward,
    sigmoid,
)
from .errors import InputError
from .sequence import (
    CELLS,
    RECURRENT_INITS,
    Grads,
    Trace,
    backward,
    forward,
    init_params,
    jacobian_norms,
)

__all__ = [
    "CELLS",
    "GATES",
    "RECURRENT_INITS",
    "Grads",
    "InputError",
    "Trace",
    "backward",
    "forward",
    "gru_step_backward",
    "gru_step_forward",
    "init_params",
    "jacobian_norms",
    "lstm_step_backward",
    "lstm_step_forward",
    "rnn_step_backward",
    "rnn_step_forward",
    "sigmoid",
]
