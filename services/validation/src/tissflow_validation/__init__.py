"""tissflow_validation."""
