"""Experiment drivers that reproduce the dissertation's tables and figures from the installed package."""
