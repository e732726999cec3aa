"""PyMC model builders, one per file, each with its likelihood and priors written out."""
