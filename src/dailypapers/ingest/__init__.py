"""Ingest: read papers from files and upstreams, normalise them, and upsert them into the store."""
