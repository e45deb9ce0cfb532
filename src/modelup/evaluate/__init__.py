"""Evaluate: the dataset, the run plan, the replay and the scoring of every answer."""
