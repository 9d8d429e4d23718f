"""Recovery of a planted neuron by the convex reformulations of two-layer ReLU training with weight decay
(Wang, Hua, Candès, Pilanci 2022, arXiv 2209.15265): an overparameterized ReLU network trained with a vanishing
weight decay is the minimal-norm interpolant, a group lasso over hyperplane-arrangement patterns; once n/d
passes a threshold it returns the planted (simplest) model.

instances.py draws the data and the planted neuron, patterns.py the activation patterns, programs.py solves
the relaxed and the exact convex programs, theory.py holds Wendel's probability and the neural-isometry
certificate, cells.py runs one (d, n/d) cell, aggregate.py tabulates, figures.py draws and training.py trains
the non-convex network. docs/relu_recovery.md has the science.
"""
