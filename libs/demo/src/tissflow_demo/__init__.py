"""Demo and test data for tissflow, kept out of the services' production packages:
`samples` builds TISS files (valid, or broken on purpose), `validation_seed` loads the
operator's demo registry. Used by `make run`, the tests and the benchmarks."""
