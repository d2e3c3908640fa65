"""notifierd: a declarative, GitOps notification daemon."""

__version__ = "0.1.0"
