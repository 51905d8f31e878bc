"""The process's runtime limits, set once at the first import of the ``ui`` package.

The engine's matrices are small (H ≤ 256): on a 2-core server OpenBLAS's second thread only
waits for a CPU (a 64×1000×64 product: 25-30 ms on 2 threads, 0.3 ms on 1; bench/engine.py).
``make run`` exports ``OPENBLAS_NUM_THREADS=1``; ``streamlit run app.py`` started by hand does
not, so the app limits every BLAS pool it has loaded to one thread itself, whatever started it.
"""

from __future__ import annotations

import numpy  # noqa: F401 - loads OpenBLAS, so that threadpoolctl finds its pool
from threadpoolctl import threadpool_info, threadpool_limits

BLAS_THREADS = 1

_limiter = None


def limit_blas_threads() -> list[int]:
    """Limit every loaded BLAS library to :data:`BLAS_THREADS` threads (idempotent); returns
    the thread counts after the limit, one per library."""
    global _limiter
    if _limiter is None:
        _limiter = threadpool_limits(limits=BLAS_THREADS, user_api="blas")
    return blas_threads()


def blas_threads() -> list[int]:
    """The current thread count of each loaded BLAS library."""
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


limit_blas_threads()
