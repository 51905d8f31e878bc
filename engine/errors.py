"""Exceptions shared by the engine."""


class InputError(ValueError):
    """Invalid user input, with a message a learner understands (shown with st.error)."""
