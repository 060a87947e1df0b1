"""tissflow_protocol."""
