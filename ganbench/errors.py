"""The errors ganbench raises on purpose: each message says what was wrong and what to do.

The CLI prints them on one line and exits with status 2; any other exception is a bug.
"""


class GanbenchError(Exception):
    """Base class: a problem the user can fix (bad input, missing asset, ...)."""


class BadInput(GanbenchError):
    """An argument, file or configuration the user gave is invalid."""


class MissingAsset(GanbenchError):
    """A dataset, weights file or checkpoint could not be found or read."""


class Diverged(GanbenchError):
    """Training produced NaN/Inf or exploded losses and was stopped."""
