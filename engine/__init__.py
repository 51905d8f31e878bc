"""gatescope's engine: exact NumPy RNN, GRU and LSTM with BPTT and Jacobian norms.

Pure NumPy, float64, PyTorch's equations and parameter layout. The public contract is
``shared/ENGINE_API.md``; everything a page, a figure, a notebook or a test needs is importable
from here::

    from engine import init_params, forward, backward, jacobian_norms

Weights trained elsewhere (PyTorch, Keras, deeplearning.ai's notation) come in through
:mod:`engine.convert` (``load_params`` for an uploaded file).
"""

from .cells import (
    GATES,
    GRU_RESETS,
    gru_reset_before_step_backward,
    gru_reset_before_step_forward,
    gru_step_backward,
    gru_step_forward,
    lstm_step_backward,
    lstm_step_forward,
    rnn_step_backward,
    rnn_step_forward,
    sigmoid,
)
from .convert import (
    LAYOUTS,
    Loaded,
    from_deeplearning_ai,
    from_keras,
    from_pytorch,
    load_params,
    to_deeplearning_ai,
    to_keras,
    to_pytorch,
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
from .tasks import ADDING, RECALL, TASKS, Task, make_batch
from .theory import (
    activation_slope,
    forget_products,
    gate_saturation,
    gru_direct_path,
    last_step_seed,
    lstm_cell_path,
    pascanu_bound,
    recurrent_spectrum,
    rnn_local_bound,
    rnn_local_factors,
    sigma_max,
    spectral_radius,
    update_products,
)
from .train import (
    Evaluation,
    StepRecord,
    TrainConfig,
    Trainer,
    TrainResult,
    history_columns,
    predict,
    train,
)

__all__ = [
    "CELLS",
    "GATES",
    "GRU_RESETS",
    "RECURRENT_INITS",
    "Grads",
    "InputError",
    "Trace",
    "backward",
    "forward",
    "gru_reset_before_step_backward",
    "gru_reset_before_step_forward",
    "gru_step_backward",
    "gru_step_forward",
    "init_params",
    "jacobian_norms",
    "lstm_step_backward",
    "lstm_step_forward",
    "rnn_step_backward",
    "rnn_step_forward",
    "sigmoid",
    "LAYOUTS",
    "Loaded",
    "from_deeplearning_ai",
    "from_keras",
    "from_pytorch",
    "load_params",
    "to_deeplearning_ai",
    "to_keras",
    "to_pytorch",
    "activation_slope",
    "forget_products",
    "gate_saturation",
    "gru_direct_path",
    "last_step_seed",
    "lstm_cell_path",
    "pascanu_bound",
    "recurrent_spectrum",
    "rnn_local_bound",
    "rnn_local_factors",
    "sigma_max",
    "spectral_radius",
    "update_products",
    "ADDING",
    "RECALL",
    "TASKS",
    "Task",
    "make_batch",
    "Evaluation",
    "StepRecord",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "history_columns",
    "predict",
    "train",
]
