"""tissflow_batching: lotes de pagamento (open, close, reopen, send, delete; NF; sync)."""
