"""Where notifierd finds its services and queue when not told: one definition for the client,
the command line and the daemon, in a module that imports nothing (the supervisor of
``notifierd run --workers`` reads it without loading the Redis client)."""

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_QUEUE = "notifierd:requests"
# Set by the supervisor for its workers: the directory where one worker's validation of a
# changed config is left for the others (offloop.SharedValidation).
SHARED_VALIDATION_ENV = "NOTIFIERD_SHARED_VALIDATION"
