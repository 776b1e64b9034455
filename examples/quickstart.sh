#!/usr/bin/env bash
# Quick start: install modelgen, train the example credit-scoring pipeline, compile it to every
# target and verify each generated scorer against scikit-learn, bit for bit (DuckDB as the database).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e ".[test]"
python3 examples/credit_scoring/train.py out/example
for target in python c java sql; do
  modelgen compile out/example/credit.pkl -t "$target" --runner -o "out/example/$target" --name credit >/dev/null
  echo "compiled out/example/credit.pkl -> out/example/$target/"
done
modelgen verify out/example/credit.pkl --data out/example/applicants.csv
