"""A throw-away one-node SLURM cluster for the SLURM end-to-end test (see cluster.py)."""
