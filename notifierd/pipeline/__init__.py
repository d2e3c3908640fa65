"""The delivery pipeline: parse → dedup → suppress → route → render → rate limit → deliver → record."""
