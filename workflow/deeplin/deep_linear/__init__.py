"""Deep linear networks whose depth grows in proportion to their width (Bassetti, Ladelli, Rotondo 2024,
arXiv 2411.15267): at fixed depth a wide random network is a Gaussian process; with L/N → a its outputs become
a non-trivial Gaussian mixture that keeps correlations between output units.

This subpackage samples such networks (networks.py), holds the exact finite-(N, L) moments, the limit laws and
the Gaussian-process values (theory.py), compares them cell by cell (compare.py) and draws the chapter's
figures (figures.py). It imports only deeplin's shared modules and itself; docs/deep_linear.md has the science.
"""
