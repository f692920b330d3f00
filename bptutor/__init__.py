"""bptutor: the package behind a notebook course on backpropagation.

One module per concept, in the order a learner meets them; see the README's
module map.
"""
__version__ = "0.1.0"
