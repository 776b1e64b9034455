"""Code generators, one package per target; found through the ``modelgen.emitters`` entry points."""
