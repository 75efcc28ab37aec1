"""Measuring retrieval: evaluation on question sets and the search/ingestion benchmarks."""
