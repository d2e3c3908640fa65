"""The web console under ``/ui/``: server-rendered pages (Jinja) on the same backend functions as
the JSON API, a little JavaScript shipped here (no CDN, no build step) for actions and live
updates. Every page's data is in its HTML; actions call the JSON API."""
