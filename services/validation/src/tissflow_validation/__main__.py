"""`python -m tissflow_validation` runs the validation service."""

from tissflow_validation.app import app, runtime

runtime.serve(app)
