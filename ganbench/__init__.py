"""ganbench: GAN evaluation and benchmarking.

Public API: ``evaluate()`` (metrics, with ``EvaluateOptions``), ``train()`` (one model, with ``TrainOptions``),
``run()`` (a benchmark, with ``RunOptions``), ``compare()`` (a new model against the baselines, with
``CompareOptions``), ``search()`` (a budgeted hyperparameter search, with ``SearchOptions``). Submodules load lazily
so that ``ganbench --version`` stays instant.
"""

from .version import __version__

__all__ = ["__version__", "evaluate", "EvaluateOptions", "train", "TrainOptions", "run", "RunOptions", "compare",
           "CompareOptions", "search", "SearchOptions", "get_dataset"]


def __getattr__(name):  # PEP 562: import the heavy parts on first use
    if name == "get_dataset":
        from .data import get_dataset
        return get_dataset
    if name == "evaluate":
        from .metrics.evaluate import evaluate
        return evaluate
    if name == "EvaluateOptions":
        from .metrics.evaluate import EvaluateOptions
        return EvaluateOptions
    if name == "train":
        from .train.trainer import train
        return train
    if name == "TrainOptions":
        from .train.trainer import TrainOptions
        return TrainOptions
    if name == "search":
        from .bench.search.driver import search
        return search
    if name == "run":
        from .bench.runner import run
        return run
    if name == "RunOptions":
        from .bench.runner import RunOptions
        return RunOptions
    if name == "SearchOptions":
        from .bench.search.driver import SearchOptions
        return SearchOptions
    if name == "compare":
        from .bench.compare import compare
        return compare
    if name == "CompareOptions":
        from .bench.compare import CompareOptions
        return CompareOptions
    raise AttributeError(f"module 'ganbench' has no attribute {name!r}")
