-- A rejected request keeps only its first bytes in `raw` (notifierd.intake.consumer.KEPT_RAW_BYTES:
-- enough to see what a producer sent, while a 10 MB body costs no 10 MB row); `raw_size` is how
-- many bytes it had. NULL for rows written before this column.
ALTER TABLE rejected_requests ADD COLUMN raw_size bigint;
