"""How ``notifierd run`` was asked to run: connections, queue, limits, the listener."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class WorkerSlot:
    """Which of a supervisor's workers this process is (``notifierd run --workers N``)."""

    index: int
    # The supervisor's token, the same for every worker it starts in this slot: the worker that
    # replaces a killed one claims the slot's id again (intake/claim.py), another daemon cannot.
    owner: str


@dataclass
class Options:
    config_dir: Path
    redis_url: str = "redis://127.0.0.1:6379/0"
    postgres_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    queue: str = "notifierd:requests"
    key_prefix: str = "notifierd"
    dry_run: bool = False
    consumer_id: str | None = None  # None: the worker slot's id, else a random one
    worker_slot: WorkerSlot | None = None
    # The supervisor's copy of the last config that validated: a worker started again while the
    # config on disk is broken starts from it (and reloads from config_dir once that is fixed).
    last_good_config: Path | None = None
    batch: int = 100
    # Requests taken and not yet recorded, those waiting for the recorder's next batch included:
    # at 256 a burst kept them waiting there and left the worker idle (bench/README.md, session
    # 13). More costs memory (~2 MiB a worker per 256) and is what a crash can send twice.
    max_in_flight: int = 512
    shutdown_timeout: float = 10.0
    heartbeat_ttl: float = 15.0
    watch: bool = True
    http: str | None = None
    insecure_no_auth: bool = (
        False  # let a listener beyond loopback serve the API without credentials
    )
    private_metrics: bool = False  # /metrics asks for the API's credentials
    http_head_timeout: float = 10.0  # a client's request head arrives within this, or it is cut
    http_body_timeout: float = 30.0
    http_max_connections: int = 512  # fewer when the file-descriptor limit is low
    console_session_seconds: float = 12 * 3600.0  # how long a console sign-in lasts
    escalation_poll: float = 1.0  # safety net: the wake-up timer fires steps when due
    heartbeat_poll: float = 5.0  # how often a replica looks for late heartbeats (routes.yaml)
