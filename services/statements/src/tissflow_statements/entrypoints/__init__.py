"""Entry points: the Kafka consumers and the internal HTTP routes."""
