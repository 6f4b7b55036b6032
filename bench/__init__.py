"""City-scale benchmark: ``python -m bench seed|run|burst|growth`` (see bench/README.md)."""
