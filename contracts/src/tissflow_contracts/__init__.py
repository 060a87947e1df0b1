"""tissflow_contracts."""
