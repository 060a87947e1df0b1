"""tissflow_ingest."""
