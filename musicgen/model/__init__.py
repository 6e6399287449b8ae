"""The network, its sizes, and its model files (weights plus a model card)."""
