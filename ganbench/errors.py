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


class GanbenchWarning(UserWarning):
    """Base class of the warnings ganbench gives on purpose: each is one line, shown once per process and place."""


def one_line_warnings() -> None:
    """Show ganbench's own warnings as ``ganbench: warning: ...`` on one line, without the file, line and source
    line Python adds (the CLI and each worker process call this); other warnings keep Python's format."""
    import warnings

    default = warnings.formatwarning
    if getattr(default, "ganbench", False):
        return

    def formatwarning(message, category, filename, lineno, line=None):
        if issubclass(category, GanbenchWarning):
            return f"ganbench: warning: {message}\n"
        return default(message, category, filename, lineno, line)

    formatwarning.ganbench = True
    warnings.formatwarning = formatwarning
