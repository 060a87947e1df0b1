"""`python -m tissflow_statements` runs the statements service."""

from tissflow_statements.bootstrap import app, runtime

runtime.serve(app)
