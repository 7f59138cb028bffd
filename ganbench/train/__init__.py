"""Training: the generic loop (``trainer.train``), its hooks, checkpoints and the distributed wrapper.

``ganbench.train`` is both this package and the public ``train()`` function: importing a submodule
(``ganbench.train.trainer``) binds the package to the name ``train`` on ``ganbench``, so the package itself
is made callable, and ``ganbench.train(...)`` calls ``trainer.train`` whichever of the two the name holds.
"""

import sys
import types


class _CallablePackage(types.ModuleType):
    def __call__(self, *args, **kwargs):
        from .trainer import train
        return train(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
