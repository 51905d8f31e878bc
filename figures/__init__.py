"""Pure Plotly figure builders: (Trace, options) -> go.Figure. No Streamlit here."""
