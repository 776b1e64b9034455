"""Output naming (contract section 3): one table shared by every frontend and the reference.

Classifiers: ``label``; then ``probability_<class>`` per class when the model has
``predict_proba``; then ``decision`` (one column) or ``decision_<class>`` (one per class)
when it has ``decision_function``. Regressors: ``prediction`` (multi-output: ``prediction_0``,
``prediction_1``, ...). Outlier detectors: ``label`` (``predict``'s 1 / -1), ``score``
(``score_samples``), ``decision`` (``decision_function``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from modelgen.errors import UnsupportedModelError
from modelgen.ir import Node, OutputField


@dataclass(frozen=True)
class ClassifierOutputs:
    """A lowered classifier: classes (string forms), label, and optional probability/decision columns."""

    classes: tuple[str, ...]
    label: Node
    probabilities: tuple[Node, ...] | None = None
    decisions: tuple[Node, ...] | None = None


@dataclass(frozen=True)
class RegressorOutputs:
    """A lowered regressor: its single prediction."""

    prediction: Node


@dataclass(frozen=True)
class MultiOutputRegressorOutputs:
    """A lowered regressor with several targets, in ``predict``'s column order."""

    predictions: tuple[Node, ...]


@dataclass(frozen=True)
class OutlierOutputs:
    """A lowered outlier detector: ``predict`` (as '1' / '-1'), ``score_samples``, ``decision_function``."""

    label: Node
    score: Node
    decision: Node


LoweredOutputs = ClassifierOutputs | RegressorOutputs | MultiOutputRegressorOutputs | OutlierOutputs


@dataclass(frozen=True)
class OutputName:
    """One output column's name, kind and class (without its expression)."""

    name: str
    kind: str
    class_label: str | None = None


def class_string(value: Any) -> str:
    """The string form of a class label: ``str`` of the Python scalar (1 -> '1', True -> 'True')."""
    item = value.item() if hasattr(value, "item") and not isinstance(value, str) else value
    return str(item)


def class_strings(classes: Sequence[Any], where: str) -> tuple[str, ...]:
    """String forms of ``classes``; refuses classes whose string forms collide (1 and '1')."""
    forms = tuple(class_string(c) for c in classes)
    if len(set(forms)) != len(forms):
        raise UnsupportedModelError(f"classes {list(classes)!r} have colliding string forms {list(forms)!r}", where)
    return forms


def classifier_output_names(
    classes: Sequence[str], has_probabilities: bool, decision_width: int | None
) -> list[OutputName]:
    """Output names of a classifier; ``decision_width`` is None (no decision), 1, or len(classes)."""
    names = [OutputName("label", "label")]
    if has_probabilities:
        names += [OutputName(f"probability_{c}", "probability", c) for c in classes]
    if decision_width == 1:
        names.append(OutputName("decision", "decision"))
    elif decision_width is not None:
        if decision_width != len(classes):
            raise UnsupportedModelError(f"{decision_width} decision columns for {len(classes)} classes")
        names += [OutputName(f"decision_{c}", "decision", c) for c in classes]
    return names


def regressor_output_names(n_outputs: int = 1) -> list[OutputName]:
    """Output names of a regressor: ``prediction``, or ``prediction_<k>`` for several targets."""
    if n_outputs == 1:
        return [OutputName("prediction", "value")]
    return [OutputName(f"prediction_{k}", "value") for k in range(n_outputs)]


def outlier_output_names() -> list[OutputName]:
    """Output names of an outlier detector (``predict``, ``score_samples``, ``decision_function``)."""
    return [OutputName("label", "label"), OutputName("score", "value"), OutputName("decision", "decision")]


def output_fields(lowered: LoweredOutputs) -> list[OutputField]:
    """The model's ``OutputField``s, named by the table above."""
    if isinstance(lowered, RegressorOutputs):
        return [OutputField("prediction", "value", lowered.prediction)]
    if isinstance(lowered, MultiOutputRegressorOutputs):
        names = regressor_output_names(len(lowered.predictions))
        return [OutputField(n.name, n.kind, e) for n, e in zip(names, lowered.predictions)]
    if isinstance(lowered, OutlierOutputs):
        exprs = (lowered.label, lowered.score, lowered.decision)
        return [OutputField(n.name, n.kind, e) for n, e in zip(outlier_output_names(), exprs)]
    probabilities = lowered.probabilities
    decisions = lowered.decisions
    names = classifier_output_names(
        lowered.classes, probabilities is not None, None if decisions is None else len(decisions)
    )
    exprs = [lowered.label, *(probabilities or ()), *(decisions or ())]
    return [OutputField(n.name, n.kind, e, n.class_label) for n, e in zip(names, exprs)]
