"""Transparency (reporting layer): what residents and the press read without asking anyone.
It reads the features below it and is imported by none of them."""
