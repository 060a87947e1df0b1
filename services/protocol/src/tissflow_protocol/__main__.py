"""`python -m tissflow_protocol` runs the protocol service."""

from tissflow_protocol.app import app, runtime

runtime.serve(app)
