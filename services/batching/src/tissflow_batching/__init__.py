"""tissflow_batching."""
