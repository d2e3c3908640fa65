"""Routing: matchers, suppression windows and the router — pure functions of snapshot, request, time."""
