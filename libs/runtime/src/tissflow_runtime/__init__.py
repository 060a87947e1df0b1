"""tissflow_runtime."""
