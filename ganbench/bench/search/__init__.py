"""``ganbench search``: budgeted hyperparameter search with early stopping (Optuna), as a study of its own.

``space`` reads search spaces (YAML data), ``trial`` runs one trial as a job, ``driver`` runs a whole search
(trials, selection, re-runs), ``report`` writes its tables and plots.
"""

from .driver import SearchOptions, search
from .manifest import SearchResult
from .space import SearchSpace, load_space

__all__ = ["SearchOptions", "SearchResult", "SearchSpace", "load_space", "search"]
