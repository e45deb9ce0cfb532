"""The store: history of runs, the response cache (and, next, releases and traces)."""
