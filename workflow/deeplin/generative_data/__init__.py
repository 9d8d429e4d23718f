"""Gaussian equivalence of generative-model data (Goldt, Loureiro, Reeves, Krzakala, Mézard, Zdeborová 2020,
arXiv 2006.14709): inputs x = G(c) produced by a generator from a Gaussian latent c behave, for learning, like
Gaussian inputs with the same mean, covariance Ω = E xxᵀ and input–latent covariance Φ = E xcᵀ.

This subpackage holds the generators and their moments (generators.py), the Gaussian integrals of the
erf(·/√2) network (integrals.py), the local-field check (fields.py), the spectral ODEs of online SGD (ode.py)
and the simulation they describe (sgd.py), ridge regression's Gaussian-covariate fixed point and its
simulation (ridge.py), and the chapter's figures (figures.py). It imports only deeplin's shared modules and
itself; docs/generative_data.md has the science.
"""
