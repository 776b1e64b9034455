"""OneHotEncoder and OrdinalEncoder: category membership written as ``IsIn``/``IsMissing`` tests.

scikit-learn 1.9.1 (``_BaseEncoder._transform``) finds each value's category index by
equality (``_check_unknown`` / ``_encode``): IEEE equality for numeric categories (so
``-0.0`` is category ``0.0``), exact ``str`` equality for object categories. A missing
value is a category only when ``categories_`` holds NaN or None. Unknown values are then
rejected ('error'), ignored, or mapped to the infrequent category; infrequent categories
are regrouped (``_default_to_infrequent_mappings``) and dropped categories removed
(``_drop_idx_after_grouping``). The lowering replays exactly that bookkeeping per category,
at compile time, and turns the result into one membership test per output column.

Missing strings: the IR has one missing string value; it stands for whichever of
None / NaN the encoder saw as a category (an encoder that saw both is unsupported).
Numeric inputs are validated like scikit-learn does (``ensure_all_finite='allow-nan'``):
an infinite value rejects the row.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

from modelgen.errors import UnsupportedModelError
from modelgen.frontends.sklearn.columns import Column, Columns, add_row_check, require_finite
from modelgen.frontends.sklearn.transforms.registry import lowers
from modelgen.ir import DOUBLE, Cast, Const, IfElse, IsIn, IsMissing, Node, Not, Or

ConstValue = float | str


@dataclass(frozen=True)
class FeatureCategories:
    """One feature's fitted categories, split into present values and the missing category."""

    is_string: bool
    values: tuple[tuple[int, ConstValue], ...]
    """(category index, value) for every non-missing category, in ``categories_`` order."""
    missing_index: int | None
    rejects_infinity: bool
    """scikit-learn validates a numeric (not object) input with ensure_all_finite='allow-nan'."""


def read_categories(categories: Any, feature: str, where: str) -> FeatureCategories:
    """Classify ``categories_[i]`` as string or numeric; refuse anything ambiguous."""
    array = np.asarray(categories)
    if array.dtype.kind not in "fiuOU":
        raise UnsupportedModelError(f"categories of {feature!r} with dtype {array.dtype}", where)
    values: list[tuple[int, ConstValue]] = []
    missing: list[int] = []
    kinds: set[str] = set()
    for index, value in enumerate(array.tolist()):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            missing.append(index)
        elif isinstance(value, str):
            kinds.add("string")
            values.append((index, value))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            kinds.add("number")
            as_double = float(value)
            if as_double != value:
                raise UnsupportedModelError(f"category {value!r} of {feature!r} is not exactly a double", where)
            values.append((index, as_double))
        else:
            raise UnsupportedModelError(f"category {value!r} ({type(value).__name__}) of {feature!r}", where)
    if len(kinds) > 1:
        raise UnsupportedModelError(f"categories of {feature!r} mix strings and numbers", where)
    is_string = kinds == {"string"} or (not kinds and array.dtype.kind in "OU")
    # IEEE equality (and Python's set lookup) merges 0.0 and -0.0: two such categories are ambiguous
    if not is_string and len({v for _, v in values}) != len(values):
        raise UnsupportedModelError(f"categories of {feature!r} contain equal numbers (0.0 and -0.0)", where)
    if len(missing) > 1:
        raise UnsupportedModelError(f"categories of {feature!r} contain both None and NaN", where)
    # check_array validates finiteness of numeric arrays only, not of object arrays
    return FeatureCategories(is_string, tuple(values), missing[0] if missing else None, array.dtype.kind in "fiu")


def read_feature(column: Column, categories: FeatureCategories, where: str) -> Node:
    """The input as the type its categories have; numeric inputs reject infinity like sklearn."""
    if categories.is_string:
        return column.as_string(where)
    x = column.as_double(where)
    if categories.rejects_infinity:
        require_finite(column, x, where, allow_nan=True)
    return x


@dataclass
class Group:
    """The category indices (and maybe the unknown values) that share one outcome."""

    indices: list[int] = field(default_factory=list)
    unknown: bool = False


def member(x: Node, categories: FeatureCategories, group: Group) -> Node:
    """A bool that is true exactly when ``x`` falls in ``group``."""
    wanted = set(group.indices)
    terms: list[Node] = []
    present = tuple(v for i, v in categories.values if i in wanted)
    if present:
        terms.append(IsIn(x, present))
    if categories.missing_index is not None and categories.missing_index in wanted:
        terms.append(IsMissing(x))
    if group.unknown:
        terms.append(Not(known(x, categories)))
    if not terms:
        return Const(False)
    return terms[0] if len(terms) == 1 else Or(tuple(terms))


def known(x: Node, categories: FeatureCategories) -> Node:
    """True when ``x`` is one of the fitted categories (missing included if it is one)."""
    terms: list[Node] = []
    if categories.values:
        terms.append(IsIn(x, tuple(v for _, v in categories.values)))
    if categories.missing_index is not None:
        terms.append(IsMissing(x))
    return terms[0] if len(terms) == 1 else Or(tuple(terms))


def output_names(transformer: Any, count: int, where: str) -> list[str]:
    """scikit-learn's output feature names when it can tell them, else positional names."""
    try:
        names = [str(n) for n in transformer.get_feature_names_out()]
    except Exception:  # names are informational only; any failure falls back
        names = []
    if len(names) != count:
        names = [f"{where}[{j}]" for j in range(count)]
    return names


def _infrequent_mapping(encoder: Any, feature: int) -> Any:
    if not encoder._infrequent_enabled:
        return None
    return encoder._default_to_infrequent_mappings[feature]


def _reject_unknown(encoder: Any, x: Node, categories: FeatureCategories, column: Column, where: str) -> None:
    add_row_check(
        known(x, categories),
        f"feature {column.name!r} has a category not seen in training "
        f"({type(encoder).__name__} handle_unknown='error')",
        where,
    )


@lowers(OneHotEncoder)
def lower_one_hot_encoder(encoder: Any, columns: Columns, where: str) -> list[Column]:
    """One 1.0/0.0 column per (feature, kept category slot), in ``get_feature_names_out`` order."""
    if np.dtype(encoder.dtype).kind not in "fiu":
        raise UnsupportedModelError(f"OneHotEncoder dtype={encoder.dtype!r}", where)
    if encoder.handle_unknown not in ("error", "ignore", "infrequent_if_exist", "warn"):
        raise UnsupportedModelError(f"OneHotEncoder handle_unknown={encoder.handle_unknown!r}", where)
    if len(columns) != len(encoder.categories_):
        raise UnsupportedModelError(
            f"OneHotEncoder fitted on {len(encoder.categories_)} features receives {len(columns)}", where
        )
    drop_idx = encoder._drop_idx_after_grouping
    exprs: list[Node] = []
    for i, column in enumerate(columns):
        categories = read_categories(encoder.categories_[i], column.name, where)
        x = read_feature(column, categories, where)
        mapping = _infrequent_mapping(encoder, i)
        to_drop = None if drop_idx is None else drop_idx[i]

        def slot(index: int, mapping: Any = mapping, to_drop: Any = to_drop) -> int | None:
            code = int(mapping[index]) if mapping is not None else index
            if to_drop is not None:
                if code == int(to_drop):
                    return None
                if code > int(to_drop):
                    code -= 1
            return code

        groups = [Group() for _ in range(encoder._n_features_outs[i])]
        for index in range(len(encoder.categories_[i])):
            target = slot(index)
            if target is not None:
                groups[target].indices.append(index)
        infrequent = encoder._infrequent_indices[i] if encoder._infrequent_enabled else None
        if encoder.handle_unknown == "error":
            _reject_unknown(encoder, x, categories, column, where)
        elif infrequent is not None and encoder.handle_unknown in ("infrequent_if_exist", "warn"):
            # _map_infrequent_categories: unknowns become infrequent_idx[0], then are regrouped
            target = slot(int(infrequent[0]))
            if target is not None:
                groups[target].unknown = True
        exprs.extend(Cast(member(x, categories, group), DOUBLE) for group in groups)
    names = output_names(encoder, len(exprs), where)
    return [Column.of(name, expr) for name, expr in zip(names, exprs)]


def _bits(value: float) -> bytes:
    return struct.pack("<d", value)


@lowers(OrdinalEncoder)
def lower_ordinal_encoder(encoder: Any, columns: Columns, where: str) -> list[Column]:
    """One double per feature: the category code, ``encoded_missing_value`` or ``unknown_value``."""
    dtype = np.dtype(encoder.dtype)
    if dtype.kind != "f":
        raise UnsupportedModelError(f"OrdinalEncoder dtype={encoder.dtype!r}", where)
    if encoder.handle_unknown not in ("error", "use_encoded_value"):
        raise UnsupportedModelError(f"OrdinalEncoder handle_unknown={encoder.handle_unknown!r}", where)
    if len(columns) != len(encoder.categories_):
        raise UnsupportedModelError(
            f"OrdinalEncoder fitted on {len(encoder.categories_)} features receives {len(columns)}", where
        )

    def as_output(value: Any) -> float:
        # X_trans has the encoder's dtype: every value is rounded to it, then read as a double
        return float(np.asarray(value).astype(dtype))

    out: list[Column] = []
    names = output_names(encoder, len(columns), where)
    for i, column in enumerate(columns):
        categories = read_categories(encoder.categories_[i], column.name, where)
        x = read_feature(column, categories, where)
        mapping = _infrequent_mapping(encoder, i)
        missing_idx = encoder._missing_indices.get(i)
        # outcome (by bits) -> the categories producing it, in first-seen order
        outcomes: dict[bytes, tuple[float, Group]] = {}

        def add(value: float, index: int | None, outcomes: dict[bytes, tuple[float, Group]] = outcomes) -> None:
            entry = outcomes.setdefault(_bits(value), (value, Group()))
            if index is None:
                entry[1].unknown = True
            else:
                entry[1].indices.append(index)

        for index in range(len(encoder.categories_[i])):
            code = index
            # _map_infrequent_categories leaves the missing category's code alone (ignore_category_indices)
            if mapping is not None and not (missing_idx is not None and index == missing_idx):
                code = int(mapping[index])
            if missing_idx is not None and code == missing_idx:
                add(as_output(encoder.encoded_missing_value), index)
            else:
                add(as_output(code), index)
        if encoder.handle_unknown == "error":
            _reject_unknown(encoder, x, categories, column, where)
        else:
            add(as_output(encoder.unknown_value), None)
        groups = list(outcomes.values())
        expr: Node = Const(groups[-1][0])
        for value, group in reversed(groups[:-1]):
            expr = IfElse(member(x, categories, group), Const(value), expr)
        out.append(Column.of(names[i], expr))
    return out
