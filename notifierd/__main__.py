"""``python -m notifierd`` runs the command line."""

from notifierd.cli.main import main

main()
