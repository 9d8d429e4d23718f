"""deeplin: the deep-to-linear (deep Gaussian equivalence) pipeline's numerical package."""

from importlib import metadata

try:
    __version__ = metadata.version("deeplin")
except metadata.PackageNotFoundError:  # running from a source tree that was not pip-installed
    __version__ = "0+unknown"
