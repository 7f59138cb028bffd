"""ganbench: GAN evaluation and benchmarking.

Public API: ``evaluate()`` (metrics, with ``EvaluateOptions``), ``train()`` (one model, with ``TrainOptions``),
``run()`` (a benchmark, with ``RunOptions``), ``compare()`` (a new model against the baselines, with
``CompareOptions``), ``search()`` (a budgeted hyperparameter search, with ``SearchOptions``). Submodules load lazily
so that ``ganbench --version`` stays instant.
"""

from .version import __version__

__all__ = ["__version__", "evaluate", "EvaluateOptions", "train", "TrainOptions", "run", "RunOptions", "compare",
           "CompareOptions", "search", "SearchOptions", "get_dataset"]


#: Each public name and the module that defines it, imported on first use (PEP 562), so that importing ganbench and
#: ``ganbench --version`` stay instant.
_PUBLIC = {"get_dataset": ".data", "evaluate": ".metrics.evaluate", "EvaluateOptions": ".metrics.evaluate",
           "train": ".train.trainer", "TrainOptions": ".train.trainer", "run": ".bench.runner",
           "RunOptions": ".bench.runner", "compare": ".bench.compare", "CompareOptions": ".bench.compare",
           "search": ".bench.search.driver", "SearchOptions": ".bench.search.driver"}


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'ganbench' has no attribute {name!r}")
    import importlib
    return getattr(importlib.import_module(_PUBLIC[name], __name__), name)
