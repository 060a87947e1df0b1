"""tissflow_gateway."""
