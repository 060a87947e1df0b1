"""MongoDB repositories and the TISS XML of recursos."""
