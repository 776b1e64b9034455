"""Train the example credit-scoring pipeline and write ``credit.pkl`` and ``applicants.csv`` into OUTDIR."""

from __future__ import annotations

import sys
from pathlib import Path

import joblib

sys.path.insert(0, str(Path(__file__).resolve().parent))

from credit import train


def main(outdir: str) -> None:
    target = Path(outdir)
    target.mkdir(parents=True, exist_ok=True)
    model, rows = train()
    joblib.dump(model, target / "credit.pkl")
    rows.to_csv(target / "applicants.csv", index=False, float_format="%.17g")
    print(f"wrote {target / 'credit.pkl'} and {target / 'applicants.csv'} ({len(rows)} rows)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out/example")
