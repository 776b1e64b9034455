"""One exception hierarchy; the CLI maps each branch to an exit code and a message.

- ``UnsupportedModelError``: the model (or one part of it) is outside what modelgen supports.
- ``InvalidModelError``: the input file is not a readable/valid model at all.
- ``TargetCannotExpressError``: the model is supported, but the chosen target cannot express it.
- ``IRValidationError``: an IR node was built with arguments that break its invariants (a bug).
- ``InputRowError``: a data row cannot be scored (bad value, missing column).
- ``VerificationError``: a generated scorer failed to build or run during ``verify``.
"""

from __future__ import annotations


class ModelgenError(Exception):
    """Base of every error modelgen raises on purpose."""


class UnsupportedModelError(ModelgenError):
    """A model part modelgen does not support; ``where`` names its place (pipeline step, node, XML path)."""

    def __init__(self, what: str, where: str | None = None, hint: str | None = None) -> None:
        self.what = what
        self.where = where
        self.hint = hint
        message = f"unsupported: {what}"
        if where:
            message += f" (at {where})"
        if hint:
            message += f"; {hint}"
        super().__init__(message)


class InvalidModelError(ModelgenError):
    """The model file is corrupt, of an unknown format or internally inconsistent."""


class TargetCannotExpressError(ModelgenError):
    """The target language/dialect cannot express a node of this model exactly."""


class IRValidationError(ModelgenError):
    """An IR node or model violates an invariant when it is built."""


class InputRowError(ModelgenError):
    """A data row cannot be scored (non-numeric value in a numeric column, unknown category, ...)."""


class VerificationError(ModelgenError):
    """A generated scorer did not build or run while verifying it."""
