"""gridcoherence: coherence, aggregation and reduction of large networked dynamical systems."""

__version__ = "0.1.0"
