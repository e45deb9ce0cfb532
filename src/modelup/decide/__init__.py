"""Decide: figures, statistics, gate rules and the Decision a run ends in."""
