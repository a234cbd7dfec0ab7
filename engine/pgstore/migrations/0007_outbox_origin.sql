-- Who queued an outbox entry (the owner name of the store that committed
-- it) and when, so that the process that queued a message sends it
-- (WithSendAffinity): the others leave it alone for a while instead of
-- every process racing to claim every new entry.
ALTER TABLE outbox ADD COLUMN origin text COLLATE "C";
ALTER TABLE outbox ADD COLUMN queued_at timestamptz;
