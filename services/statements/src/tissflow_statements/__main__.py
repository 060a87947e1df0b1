"""`python -m tissflow_statements` runs the statements service."""

from tissflow_statements.app import app, runtime

runtime.serve(app)
