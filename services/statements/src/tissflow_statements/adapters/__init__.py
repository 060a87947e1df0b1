"""Adapters: the MongoDB projection and statement index, and the PDF renderer."""
