-- Spaza schema, step 9: USSD dialogues get an id of our own.
--
-- Networks recycle USSD session ids (Kannel's its_session_info is two octets; aggregators reuse
-- theirs), so an idempotency key built from the network's id alone could find an earlier
-- dialogue's order or payment. spazad draws a random dialogue id when a dialogue begins and puts
-- it in every key the dialogue writes ("at:<session id>:<dialogue id>:<input>"). The row is
-- written on the same write queue as, and before, the dialogue's first order or payment, so a
-- dialogue that committed anything has its row: after a restart, a hop that continues a
-- dialogue (its history is not empty) finds the newest row for its channel, session id and
-- phone number and goes on under the same id, and its replay finds what was committed.
CREATE TABLE ussd_dialogues (
	id          text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{16}$'),
	channel     text NOT NULL,
	session_ref text NOT NULL,
	msisdn      text NOT NULL,
	started_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ussd_dialogues_by_ref ON ussd_dialogues (channel, session_ref, msisdn, started_at DESC);

-- spazad writes and finds them (sql/006_roles.sql); nobody changes one.
GRANT SELECT, INSERT ON ussd_dialogues TO spaza_app;

-- A forgotten customer (spazactl customer forget, sql/008_audit.sql) leaves no number here.
CREATE FUNCTION spaza__dialogues_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM ussd_dialogues WHERE msisdn = OLD.msisdn;
	RETURN NEW;
END $$;
CREATE TRIGGER customers_forget_dialogues AFTER UPDATE OF forgotten_at ON customers FOR EACH ROW
	WHEN (OLD.forgotten_at IS NULL AND NEW.forgotten_at IS NOT NULL) EXECUTE FUNCTION spaza__dialogues_forget();
