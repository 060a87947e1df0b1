"""Digitação de Guias: guides typed in the portal by clinics without billing software.

Typed guides are drafts kept as typed (`guias_digitadas`); a typed lote of them
(`lotes_digitados`) becomes a TISS ENVIO_LOTE_GUIAS message that the gateway submits to
ingest with canal "digitacao", so it passes the same validation as an uploaded XML and batching
opens its lote (Canal: Digitação) from the same `file.validated`.

Rooms: `domain/` (the forms' fields, field validation, the XML builder, grouping),
`service_layer` (use cases), `adapters` (Mongo repositories),
`entrypoints` (internal routes `/internal/digitacao/...`) and `bootstrap` (wiring).
"""
