"""One module per TISS web-service operation (or family); each registers with
`tissflow_gateway.ws.registry.operation` and is found by `registry.load()`."""
