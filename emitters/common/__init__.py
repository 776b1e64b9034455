"""Helpers shared by every emitter: scheduling shared subexpressions, rendering iteratively."""
