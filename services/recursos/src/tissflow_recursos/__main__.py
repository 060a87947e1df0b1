"""`python -m tissflow_recursos` runs the recursos service."""

from tissflow_recursos.bootstrap import build_app, runtime

runtime.serve(build_app())
