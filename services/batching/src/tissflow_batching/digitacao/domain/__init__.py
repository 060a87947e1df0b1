"""Pure rules of typed guides: forms, field validation, the XML builder and lote grouping."""
