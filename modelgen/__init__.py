"""modelgen: compile trained models into standalone, bit-exact scorers (Python, C, Java, SQL)."""

__version__ = "0.1.0"
