"""Shipped model files (weights + JSON model cards); installed as the package musicgen_models."""
