"""Semantic diff of two config snapshots, and what it changes for requests replayed through both."""
