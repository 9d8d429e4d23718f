"""The deep Gaussian equivalence (Camilli, Tieplova, Bergamin, Barbier 2025): a Bayes-optimal deep network
in the proportional regime has the mutual information and the Bayes error of an equivalent GLM.

This subpackage holds the result's science (layer coefficients, the GLM's replica-symmetric theory, GAMP),
its finite-width simulations (teacher data, the deep posterior, the GLM twin) and its tables and figures.
It imports only deeplin's shared modules and itself. The science is written up in docs/deep_equivalence.md.
"""
