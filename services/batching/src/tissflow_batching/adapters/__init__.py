"""Repositories: MongoDB (FerretDB) lotes, numbering, settings and invoices."""
