"""Errors the ACD raises on bad input; messages say what is wrong and where."""


class AcdError(ValueError):
    """An event the ACD cannot accept (unknown agent/call, impossible transition)."""


class AcdConfigError(AcdError):
    """Invalid queue, group, agent or call data."""
