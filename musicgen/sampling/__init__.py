"""Composing with a model: the request, a piece's state, the step kernels, generate, regenerate, harmonise."""
