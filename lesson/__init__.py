"""gatescope lessons that travel: one lesson as one self-contained HTML file.

``python -m lesson --preset "Wallet (text)" --out wallet.html`` writes a file that works from
``file://`` with the network off: the Step through timeline of each cell (forward and
backward), the gates over time, the three-cell vanishing-gradient comparison with the theory,
the computed takeaways, every setting and a link back to the live app, in the notation the
learner chose (``--notation pytorch|dlai|cho``: every symbol, and for deeplearning.ai and Cho
2014 the reset-before GRU). No Streamlit: the engine and the figure builders only.
"""

from .build import build_html
from .settings import DEFAULT, Settings, app_link, query

__all__ = ["DEFAULT", "Settings", "app_link", "build_html", "query"]
