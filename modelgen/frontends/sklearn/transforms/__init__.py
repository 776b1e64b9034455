"""Lowerings of scikit-learn transformers, one module per family, all registered in ``registry``."""
