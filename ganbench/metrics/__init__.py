"""The metrics engine: features (metrics.features) -> metrics (registered in metrics.registry) -> results.

Importing the package registers every metric; each module below holds one metric's maths and registration.
"""

# Registration order is table column order: FID, KID, IS, precision/recall, density/coverage, then the rest.
from . import fid, kid, inception_score, prdc, infinity, sfid, intra_fid, cas, cmmd, vendi, memorization, hype, hype_time  # noqa: F401,I001  (each registers)
from .registry import METRICS

__all__ = ["METRICS"]
