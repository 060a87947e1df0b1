"""Runtime shared by tissflow services: settings, logging, MongoDB, outbox relay, consumers."""
