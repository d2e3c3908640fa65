"""Run-time silences and schedule overrides: added, ended early and audited (``changes``), and
read into every daemon's memory about once a second (``refresh``)."""
