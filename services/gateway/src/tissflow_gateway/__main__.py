"""`python -m tissflow_gateway` runs the gateway (portal and public API)."""

from tissflow_gateway.app import app, runtime

runtime.serve(app)
