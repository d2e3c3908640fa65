"""Generated schema checks (see ../generate.py); do not edit."""
