"""`izdat cut` (being written)."""
