"""tissflow_statements."""
