"""Domain services: every business rule, one module per domain; no FastAPI here."""
