"""The baseline zoo: net families, losses, regularizers and DiffAugment as registries, composed by a ModelSpec.

``zoo.baselines.load_baseline("dcgan")`` gives a spec; ``zoo.model.GANModel(spec, shape)`` builds it and owns its step.
"""
