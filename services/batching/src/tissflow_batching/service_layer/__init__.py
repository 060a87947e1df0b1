"""Use cases of batching, over ports the adapters (or fakes) implement."""
