"""The CSV runner protocol (docs/emitters.md) as the emitter tests see it, for every target.

Writing a program to disk, spelling inputs in CSV, what a row is after the CSV round trip,
reading a runner's stdout and comparing values by their bits. What differs per target is a
parameter: how a runner spells a finite double is a ``Spelling`` check each target's helper
module passes in (Python ``repr``, Java ``Double.toString``, C ``%.17g``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import struct
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from emitters.base import EmittedProgram
from modelgen.ir import DOUBLE, STRING, Model

# tests/ is not a package; the shared IR samples live beside this directory
_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

Row = Mapping[str, Any]
Keys = Sequence[tuple[str, Sequence[str]]]
"""Key columns for ``csv_text``: (column name, one value per row), in column order."""
Spelling = Callable[[str, float], bool]
"""Whether ``text`` is how a target's runner must spell the finite double ``value``."""
Scored = list[tuple[list[str], dict[str, Any]]]
"""``parse_output``'s result: per output row, the key fields and the output values."""

IGNORED_COLUMN = "ignored, extra"
"""A column no model reads: every runner must skip it (its name and values need quoting)."""

PROTOCOL_WORDS = {math.inf: "Infinity", -math.inf: "-Infinity"}
"""How every runner spells the infinities in its output (NaN is ``NaN``)."""

# every spelling a runner must accept, cycled through row by row (words are case-insensitive)
_NAN_SPELLINGS = ("", "nan", "NaN", "-nan")
_INF_SPELLINGS = {math.inf: ("inf", "Infinity", "+INF", "INF"), -math.inf: ("-inf", "-Infinity", "-INFINITY")}


def write_program(program: EmittedProgram, outdir: Path) -> None:
    """Write the files and manifest.json like ``modelgen compile`` does."""
    outdir.mkdir(parents=True, exist_ok=True)
    for name, text in program.files:
        (outdir / name).write_text(text, encoding="utf-8", newline="\n")
    (outdir / "manifest.json").write_text(json.dumps(program.manifest, indent=2) + "\n", encoding="utf-8")


def number_field(value: float | None, variant: int) -> str:
    """A CSV spelling of a numeric input; ``variant`` picks among the accepted spellings."""
    if value is None:
        return ""
    if math.isnan(value):
        return _NAN_SPELLINGS[variant % len(_NAN_SPELLINGS)]
    if value in _INF_SPELLINGS:
        spellings = _INF_SPELLINGS[value]
        return spellings[variant % len(spellings)]
    return repr(value)


def quoted(field: str) -> str:
    """One CSV field, RFC 4180 quoted when it holds a comma, quote, CR or LF."""
    # by hand: the csv module leaves a bare CR unquoted when the line terminator is LF
    if any(c in field for c in ',"\r\n'):
        return '"' + field.replace('"', '""') + '"'
    return field


def csv_text(model: Model, rows: Sequence[Row], keys: Keys = ()) -> str:
    """Input CSV for ``rows``: key columns first, then the inputs in reverse order (order must not
    matter), then ``IGNORED_COLUMN`` (extra columns must be skipped)."""
    inputs = list(reversed(model.inputs))
    # the extra column also means no line is one empty field, which a runner may skip as blank
    lines = [[*(k for k, _ in keys), *(f.name for f in inputs), IGNORED_COLUMN]]
    for index, row in enumerate(rows):
        fields = [values[index] for _, values in keys]
        for field_ in inputs:
            value = row[field_.name]
            if field_.dtype is STRING:
                fields.append("" if value is None else value)
            else:
                fields.append(number_field(value, index))
        fields.append(f'junk {index},"x"')
        lines.append(fields)
    return "".join(",".join(quoted(f) for f in line) + "\n" for line in lines)


def as_csv_sees(model: Model, row: Row) -> dict[str, Any]:
    """The row the runner reconstructs from CSV: an empty string is missing, NaN is missing."""
    out: dict[str, Any] = {}
    for field_ in model.inputs:
        value = row[field_.name]
        if field_.dtype is STRING and value == "":
            value = None
        if field_.dtype is DOUBLE and value is not None and math.isnan(value):
            value = None
        out[field_.name] = value
    return out


def as_csv_writes(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs as a runner's CSV carries them: a missing label is an empty field."""
    return {name: "" if value is None else value for name, value in outputs.items()}


def decode_double(text: str, spelling: Spelling | None) -> float:
    """A runner's double field -> float, insisting on the protocol's NaN/Infinity words and, given
    ``spelling``, on the target's spelling of finite values."""
    value = float(text)
    if math.isnan(value) or math.isinf(value):
        word = "NaN" if math.isnan(value) else PROTOCOL_WORDS[value]
        if text != word:
            raise AssertionError(f"{text!r} is not the protocol's spelling {word!r}")
    elif spelling is not None and not spelling(text, value):
        raise AssertionError(f"{text!r} is not the target's spelling of {value!r}")
    return value


def parse_output(model: Model, stdout: str, keys: Sequence[str] = (), spelling: Spelling | None = None) -> Scored:
    """Runner stdout -> [(key fields, output values)], checking the header, every row's width and,
    through ``decode_double``, the spelling of every double."""
    reader = csv.reader(io.StringIO(stdout, newline=""))
    header = next(reader, None)
    expected_header = [*keys, *(o.name for o in model.outputs)]
    if header != expected_header:
        raise AssertionError(f"header {header!r} != {expected_header!r}")
    rows: Scored = []
    for number, record in enumerate(reader, start=1):
        if len(record) != len(expected_header):
            raise AssertionError(f"output row {number}: {len(record)} fields, expected {len(expected_header)}")
        key_fields, fields = record[: len(keys)], record[len(keys) :]
        values: dict[str, Any] = {}
        for output, text in zip(model.outputs, fields):
            values[output.name] = text if output.kind == "label" else decode_double(text, spelling)
        rows.append((key_fields, values))
    return rows


def bits(value: float) -> bytes:
    """The IEEE bits of ``value``, with every NaN collapsed to one pattern (NaN-ness is what counts)."""
    return struct.pack("<d", math.nan if math.isnan(value) else value)


def _ordered(value: float) -> int:
    # the bits as an integer that counts ULPs, within one sign (callers check the sign first)
    as_int = struct.unpack("<q", struct.pack("<d", value))[0]
    return as_int if as_int >= 0 else -(2**63) - as_int


def same_value(actual: Any, expected: Any, budget: int = 0) -> bool:
    """Floats: identical bits (any NaN matches any NaN; -0.0 is not 0.0), or with ``budget`` > 0
    the same sign and at most ``budget`` ULPs apart. Anything else: same type and equal."""
    if not isinstance(expected, float):
        return type(actual) is type(expected) and actual == expected
    if not isinstance(actual, float):
        return False
    if bits(actual) == bits(expected):
        return True
    if budget == 0 or math.isnan(actual) or math.isnan(expected):
        return False
    same_sign = math.copysign(1.0, actual) == math.copysign(1.0, expected)
    return same_sign and abs(_ordered(actual) - _ordered(expected)) <= budget


def mismatches(actual: Row, expected: Row, budgets: Mapping[str, int] | None = None) -> list[str]:
    """Every output whose value differs (by ``same_value``, within its ULP budget if given),
    described; empty when the names, their order and every value match."""
    out = []
    if list(actual) != list(expected):
        out.append(f"keys {list(actual)} != {list(expected)}")
    for name, value in expected.items():
        budget = 0 if budgets is None else budgets[name]
        if name not in actual or not same_value(actual[name], value, budget):
            allowed = "" if budgets is None else f" (budget {budget} ULP)"
            out.append(f"{name}: got {actual.get(name)!r}, expected {value!r}{allowed}")
    return out


# --- decision-tree models shared by the tree tests of every target (built by hand, never by a
# --- frontend, so every split test, NaN direction and odd threshold is present on purpose)


def _tree_sample_module() -> Any:
    # imported lazily: most emitter tests never build trees
    import modelgen.ir as ir

    return ir


def edge_tree_model() -> Model:
    """Every split test, NaN direction both ways, +-inf / -0.0 thresholds, string and double
    category sets (with the nasty category), a float32 feature, a single-leaf tree and one tree
    whose routing three outputs share (two values and a label)."""
    ir = _tree_sample_module()
    s, leaf = ir.Split, ir.leaf_ref
    a, b, color = ir.Input("a", ir.DOUBLE), ir.Input("b", ir.DOUBLE), ir.Input("color", ir.STRING)
    a32 = ir.Cast(a, ir.FLOAT32)
    thresholds = ir.TreeLeaf(
        (a, b),
        [
            s(0, "le", 0.5, False, 1, 2),
            s(1, "lt", -0.0, False, 3, 4),
            s(0, "le", math.inf, False, 5, leaf(7)),
            s(1, "le", -math.inf, True, leaf(0), leaf(1)),
            s(1, "le", 0.0, True, leaf(2), 6),
            s(1, "lt", math.inf, True, leaf(4), leaf(5)),
            s(1, "le", 2.5, False, leaf(3), leaf(6)),
        ],
    )
    categories = ir.TreeLeaf(
        (color, b),
        [
            s(0, "in", ("red", NASTY_CATEGORY, ""), False, 1, 2),
            s(1, "in", (-0.0, 1.0, math.inf, math.nan), False, leaf(0), leaf(1)),
            s(0, "notin", ("green", NASTY_CATEGORY), True, 3, 4),
            s(0, "notin", ("blue",), False, leaf(2), 5),
            s(1, "notin", (0.0, -math.inf), True, leaf(4), leaf(5)),
            s(0, "in", ("purple",), True, leaf(3), leaf(6)),
        ],
    )
    float32 = ir.TreeLeaf(
        (a32, b),
        [
            s(0, "le", 0.10000000149011612, False, leaf(0), 1),
            s(0, "lt", 0.30000001192092896, True, leaf(1), 2),
            s(1, "in", (2.0, 3.0), True, leaf(2), leaf(3)),
        ],
    )
    lone = ir.TreeLeaf((a,), [])
    shared_values = (0.1, -0.0, 1e300, -2.5, 5e-324, math.inf, -math.inf, 0.0)
    labels = ("low", NASTY_CATEGORY, "mid, with comma", 'q"uote', "x", "y", "z", "w")
    total = ir.Sum(
        (
            ir.Lookup(thresholds, (*shared_values[:7], 3.0), ir.DOUBLE),
            ir.Lookup(categories, (1.5, -1.5, 0.25, 1e-300, -0.0, 7.0, -8.5), ir.DOUBLE),
            ir.Lookup(float32, (0.5, 0.25, 0.125, 2.0), ir.DOUBLE),
            ir.Lookup(lone, (0.75,), ir.DOUBLE),
        )
    )
    outputs = [
        ir.OutputField(f"leaf_{name}", "value", ir.Cast(tree, ir.DOUBLE))
        for name, tree in (("thresholds", thresholds), ("categories", categories), ("float32", float32), ("lone", lone))
    ]
    outputs += [
        ir.OutputField("shared_value", "value", ir.Lookup(thresholds, shared_values, ir.DOUBLE)),
        ir.OutputField("shared_other", "value", ir.Lookup(thresholds, tuple(i / 3 for i in range(8)), ir.DOUBLE)),
        ir.OutputField("shared_label", "label", ir.Lookup(thresholds, labels, ir.STRING)),
        ir.OutputField("f32_value", "value", ir.Cast(ir.Lookup(float32, (0.5, 0.25, 2.0, 8.0), ir.FLOAT32), ir.DOUBLE)),
        ir.OutputField("total", "value", total),
    ]
    inputs = (ir.InputField("a", ir.DOUBLE), ir.InputField("b", ir.DOUBLE), ir.InputField("color", ir.STRING))
    return ir.Model(inputs, tuple(outputs))


NASTY_CATEGORY = "O'Brien\"; DROP TABLE x; --"
"""The category every target must keep a plain string (same text as ir_samples.NASTY)."""


def _around(value: float) -> list[float]:
    """``value`` and its two float64 neighbours (for +-inf: the value and the largest finite one)."""
    return [math.nextafter(value, -math.inf), value, math.nextafter(value, math.inf)]


def edge_tree_rows() -> list[dict[str, Any]]:
    """Rows on every threshold of ``edge_tree_model`` and their float64 / float32 neighbours,
    NaN, +-inf, -0.0, every category, an unseen one and missing strings."""
    numbers: list[float | None] = [None, math.nan, math.inf, -math.inf, 0.0, -0.0, 5e-324, -5e-324]
    for threshold in (0.5, 2.5, 0.10000000149011612, 0.30000001192092896, 1.0, 2.0, 3.0, 1.7976931348623157e308):
        numbers += _around(threshold) + _around(-threshold)
    # float32 neighbours: the float32 feature rounds these onto or across its thresholds
    numbers += [0.1, 0.3, 0.10000000894069672, 0.10000000894069671, 0.3000000268220901, 0.30000002682209017]
    colors = ["red", "green", "blue", NASTY_CATEGORY, "purple", None, "Red"]
    rows = []
    for index, a in enumerate(numbers):
        for offset in range(3):
            b = numbers[(index * 7 + offset * 13) % len(numbers)]
            rows.append({"a": a, "b": b, "color": colors[(index + offset) % len(colors)]})
    rows += [{"a": v, "b": v, "color": c} for v in numbers for c in (colors[0], colors[5])]
    return rows


def path_tree_model(length: int, *, leftward: bool) -> Model:
    """One tree that is a single path ``length`` splits deep (``x <= i`` at depth i); with
    ``leftward`` the path continues on the left side, else on the right."""
    ir = _tree_sample_module()
    x = ir.Input("x", ir.DOUBLE)
    splits = []
    for i in range(length):
        nxt = i + 1 if i + 1 < length else ir.leaf_ref(length)
        threshold = float(length - i) if leftward else float(i)
        if leftward:
            splits.append(ir.Split(0, "le", threshold, i % 2 == 0, nxt, ir.leaf_ref(i)))
        else:
            splits.append(ir.Split(0, "le", threshold, i % 2 == 0, ir.leaf_ref(i), nxt))
    tree = ir.TreeLeaf((x,), splits)
    values = tuple(float(i) * 0.5 - 3.0 for i in range(length + 1))
    outputs = (
        ir.OutputField("leaf", "value", ir.Cast(tree, ir.DOUBLE)),
        ir.OutputField("value", "value", ir.Lookup(tree, values, ir.DOUBLE)),
    )
    return ir.Model((ir.InputField("x", ir.DOUBLE),), outputs)


def _random_tree(rng: Any, features: tuple[Any, ...], depth: int, grow: float) -> Any:
    """A random tree at most ``depth`` deep; each node below the root splits with probability ``grow``."""
    ir = _tree_sample_module()
    splits: list[Any] = []
    leaves = 0
    pending: list[tuple[int, int, str]] = []  # (split index, its depth, which child to fill)

    def new_split(level: int) -> int:
        splits.append(None)
        index = len(splits) - 1
        pending.extend(((index, level, "right"), (index, level, "left")))
        return index

    fields: dict[int, dict[str, int]] = {}
    new_split(1)
    while pending:
        index, level, side = pending.pop()
        if level < depth and rng.random() < grow:
            child = new_split(level + 1)
        else:
            child = ir.leaf_ref(leaves)
            leaves += 1
        fields.setdefault(index, {})[side] = child
    width = len(features)
    for index in range(len(splits)):
        draw = rng.random()
        # a third of the thresholds are short decimals, so rows land exactly on them too
        threshold = round(rng.random() * 4.0 - 2.0, 1 + index % 3) if draw < 0.33 else rng.random() * 4.0 - 2.0
        test = "le" if draw < 0.8 else "lt"
        left, right = fields[index]["left"], fields[index]["right"]
        splits[index] = ir.Split(int(rng.random() * width), test, threshold, draw < 0.4 or draw > 0.9, left, right)
    return ir.TreeLeaf(features, splits)


def forest_model(trees: int, depth: int, *, boosting: bool, seed: int = 1, inputs: int = 20) -> Model:
    """Random-forest shaped (``boosting=False``: random-size trees, ordered Sum of leaf values / n)
    or boosting shaped (full trees, base score + ordered Sum of leaf values) IR, over ``inputs``
    double inputs; two outputs share every tree's routing in the forest."""
    import random

    ir = _tree_sample_module()
    rng = random.Random(seed)
    names = [f"f{i}" for i in range(inputs)]
    features = tuple(ir.Input(name, ir.DOUBLE) for name in names)
    first, second = [], []
    for _ in range(trees):
        tree = _random_tree(rng, features, depth, 1.0 if boosting else 0.9)
        first.append(ir.Lookup(tree, tuple(rng.random() for _ in range(tree.n_leaves)), ir.DOUBLE))
        if not boosting:
            second.append(ir.Lookup(tree, tuple(rng.random() for _ in range(tree.n_leaves)), ir.DOUBLE))
    if boosting:
        score = ir.Sum((ir.Const(0.125), *first))
        outputs = (ir.OutputField("raw", "value", score),)
    else:
        n = ir.Const(float(trees))
        outputs = (
            ir.OutputField("p0", "probability", ir.Binary("div", ir.Sum(tuple(first)), n), "a"),
            ir.OutputField("p1", "probability", ir.Binary("div", ir.Sum(tuple(second)), n), "b"),
        )
    return ir.Model(tuple(ir.InputField(name, ir.DOUBLE) for name in names), outputs)


def forest_rows(model: Model, count: int, seed: int) -> list[dict[str, Any]]:
    """Random rows for ``forest_model``: normal values, some missing, some infinite, some -0.0."""
    import random

    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        row: dict[str, Any] = {}
        for field_ in model.inputs:
            pick = rng.random()
            if pick < 0.05:
                row[field_.name] = None
            elif pick < 0.07:
                row[field_.name] = rng.choice([math.inf, -math.inf, -0.0, 0.0])
            elif pick < 0.3:
                row[field_.name] = round(rng.random() * 4.0 - 2.0, rng.randrange(1, 4))  # on a threshold, often
            else:
                row[field_.name] = rng.gauss(0.0, 1.0)
        rows.append(row)
    return rows


_BIG_MODELS: dict[str, tuple[Model, list[dict[str, Any]], list[dict[str, Any]]]] = {}


def big_tree_model(kind: str) -> tuple[Model, list[dict[str, Any]], list[dict[str, Any]]]:
    """``"forest"`` (1,000 trees, depth <= 12) or ``"boosting"`` (1,000 full depth-8 trees), 200
    random rows and their ``evaluate`` outputs as the CSV carries them; built once per process
    (the IR and the reference take tens of seconds) and shared by every target's tree tests."""
    if kind not in _BIG_MODELS:
        from modelgen.ir.evaluate import evaluate

        model = forest_model(1000, 12, boosting=False) if kind == "forest" else forest_model(1000, 8, boosting=True)
        rows = forest_rows(model, 200, seed=11)
        expected = [as_csv_writes(evaluate(model, as_csv_sees(model, row))) for row in rows]
        _BIG_MODELS[kind] = (model, rows, expected)
    return _BIG_MODELS[kind]


def path_tree_rows(length: int) -> list[dict[str, Any]]:
    """Rows on the thresholds of ``path_tree_model(length)`` (start, middle, end) and their
    float64 neighbours, plus NaN and +-inf."""
    rows: list[dict[str, Any]] = [{"x": v} for v in (None, math.inf, -math.inf, -0.0, 0.0, 5e-324)]
    for threshold in (0.0, 1.0, 2.0, length / 2, length - 2.0, length - 1.0, float(length), length + 1.0):
        rows += [{"x": v} for v in _around(threshold)]
    return rows
