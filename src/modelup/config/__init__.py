"""Configuration: the settings sections (``sections``), their sources in order of precedence
(``settings``), reading and merging them (``loading``), the gate rule as declared (``rules``),
endpoints and the per-model merge (``endpoints``), and store URLs (``store_url``)."""
