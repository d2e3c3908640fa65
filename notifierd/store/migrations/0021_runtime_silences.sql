-- Run-time silences and schedule overrides: the one documented exception to "the repository
-- decides" (PRODUCT.md). A person with the operate role adds one at 3 a.m. without a pull
-- request; it is time-bounded (settings.runtime bounds its length), ends by itself at ends_at,
-- and may be ended early (expired_at/removed_at, by whom). Rows are never deleted by an action:
-- the listing shows recent ones, the audit log says who did what.
--
-- Every daemon reads the active ones once a second into memory ("active now" below), so the
-- hot path runs no query; the in-memory check compares times, so one stops applying at its end
-- even between two reads.
CREATE TABLE runtime_silences (
    id          bigserial PRIMARY KEY,
    matchers    text[] NOT NULL,           -- matcher strings, as a config suppression's
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    reason      text NOT NULL,
    created_by  text NOT NULL,             -- the principal id (cli:<user> from the CLI)
    created_at  timestamptz NOT NULL DEFAULT now(),
    expired_at  timestamptz,               -- ended early
    expired_by  text,
    CHECK (ends_at > starts_at)
);
-- Active now: not ended early, and not past its end. Partial, so it holds only the live ones.
CREATE INDEX runtime_silences_active ON runtime_silences (ends_at) WHERE expired_at IS NULL;
-- Recent first, for the listing.
CREATE INDEX runtime_silences_recent ON runtime_silences (created_at DESC, id DESC);

CREATE TABLE runtime_overrides (
    id          bigserial PRIMARY KEY,
    schedule    text NOT NULL,             -- a schedule id of the config
    person      text NOT NULL,             -- a person of people:
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    reason      text NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    removed_at  timestamptz,               -- ended early
    removed_by  text,
    CHECK (ends_at > starts_at)
);
CREATE INDEX runtime_overrides_active ON runtime_overrides (ends_at) WHERE removed_at IS NULL;
CREATE INDEX runtime_overrides_recent ON runtime_overrides (schedule, created_at DESC, id DESC);
