"""Feature networks, one module each, registered in ``NETWORKS`` (see ``base``): ``--features NAME`` picks the space
of every feature-based metric. Importing the package registers them all."""

from . import clip, dinov2, fmnist, inception, pixels, vgg16  # noqa: F401,I001  (each registers its network)
from .base import FEATURES, NETWORKS, FeatureNetwork, NetOptions, env_name, local_file, network, parse_weight_files

__all__ = ["FEATURES", "NETWORKS", "FeatureNetwork", "NetOptions", "env_name", "local_file", "network",
           "parse_weight_files"]
