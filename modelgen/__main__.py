"""``python -m modelgen``."""

from modelgen.cli import main

main(prog_name="modelgen")
