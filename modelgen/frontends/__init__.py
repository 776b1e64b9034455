"""Frontends: read a model file and lower it to the IR."""
