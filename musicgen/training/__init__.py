"""The dataset and its corpus, the trainer, the n-gram baseline and the evaluation of a model."""
