"""Validation's entry points: the Kafka consumers and the internal HTTP routes. They map
domain errors to HTTP statuses (the runtime's handler) or to retry/dead-letter."""
