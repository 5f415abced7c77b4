-- Spaza schema, step 33: a queued SMS row wakes the outbox without a NOTIFY when spazad's own
-- customers' connections wrote it.
--
-- A transaction that sends NOTIFY takes one lock for the whole database at its commit and holds
-- it until the commit is flushed (PostgreSQL's async.c), so every notifying commit waits for the
-- one before it, WAL flush included. Every order and every payment queues an SMS, so with
-- customers' writes on two connections their commits took turns instead of sharing a flush
-- (doc/benchmark.md). spazad's customers' connections set spaza.outbox_notify = off (store/db.c)
-- and wake the outbox themselves after each batch they commit; any other writer (spazactl, the
-- other connections, psql) still notifies.
DROP TRIGGER sms_messages_queued ON sms_messages;
CREATE TRIGGER sms_messages_queued AFTER INSERT ON sms_messages
	FOR EACH ROW WHEN (NEW.status = 'queued' AND current_setting('spaza.outbox_notify', true) IS DISTINCT FROM 'off')
	EXECUTE FUNCTION sms_outbox_notify();
