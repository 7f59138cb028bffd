"""Training: the generic loop (``trainer.train``), checkpoints, generator EMA, sampling and the toy 2-D benchmark."""
