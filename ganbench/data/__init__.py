"""Dataset layer: every dataset is an :class:`ImageSet` obtained with :func:`get_dataset`."""

from . import arrays, builtin, folder  # noqa: F401  (fill the registry)
from .arrays import array_image_set
from .base import ImageSet, ResizedImageSet, TensorImageSet
from .registry import DATASETS, PARAMETRISED, data_root, get_dataset, known_names

__all__ = ["ImageSet", "TensorImageSet", "ResizedImageSet", "get_dataset", "array_image_set",
           "known_names", "data_root", "DATASETS", "PARAMETRISED"]
