-- Spaza schema, step 3: SMS in and out, marketing opt-out, the persistent outbox.
--
-- Every SMS a customer sends and every SMS we send is one row of sms_messages, so it is on the
-- customer's timeline with its outcome. Outbound rows are the outbox: spazad sends rows that are
-- `queued` and due (next_attempt) through Kannel's sendsms, and they stay queued through a Kannel
-- outage. Order notifications are queued by triggers on orders, so every way an order is created
-- or changes status (USSD, spazactl, the retailer API) notifies the customer with no code of its own.

-- Marketing opt-out (STOP / START): the flag, when it last changed and through what.
ALTER TABLE customers
	ADD COLUMN opt_out        boolean NOT NULL DEFAULT false,
	ADD COLUMN opt_out_at     timestamptz,
	ADD COLUMN opt_out_source text;

CREATE TABLE sms_messages (
	id           bigserial PRIMARY KEY,
	customer_id  bigint NOT NULL REFERENCES customers(id),
	direction    text NOT NULL CHECK (direction IN ('in', 'out')),
	-- in: mo. out: reply (to a keyword, or staff's spazactl sms send), opt_confirm (STOP/START),
	-- order_placed / order_status (the triggers below), marketing.
	kind         text NOT NULL CHECK (kind IN ('mo', 'reply', 'opt_confirm', 'order_placed', 'order_status', 'marketing')),
	-- in: the keyword command it was read as (status, orders, help, stop, start, lang, unknown)
	command      text,
	-- UTF-8. NULL for a notification until the outbox renders it in the customer's language.
	text         text,
	-- the front end it came in through and its message id: Kannel delivers an MO again when it
	-- missed our reply; the second delivery finds the first and is answered from its stored reply
	channel      text,
	mo_id        text,
	reply_to     bigint REFERENCES sms_messages(id),
	order_id     bigint REFERENCES orders(id),
	order_status text,	-- the status an order_status notification announces
	-- in: received. out: queued -> sent -> delivered | failed; suppressed (marketing to an
	-- opted-out customer: never sent); failed also when Kannel refuses the request itself.
	status       text NOT NULL CHECK (status IN ('received', 'queued', 'sent', 'delivered', 'failed', 'suppressed')),
	attempts     integer NOT NULL DEFAULT 0,
	next_attempt timestamptz NOT NULL DEFAULT now(),
	last_error   text,
	-- the last delivery report: delivered, failed, buffered, submitted, rejected; and the SMSC's words
	dlr          text,
	dlr_at       timestamptz,
	smsc_reply   text,
	created_at   timestamptz NOT NULL DEFAULT now(),
	sent_at      timestamptz,
	CHECK ((direction = 'in') = (status = 'received')),
	CHECK (direction = 'out' OR kind = 'mo')
);
CREATE UNIQUE INDEX sms_messages_mo_id ON sms_messages (channel, mo_id) WHERE direction = 'in';
CREATE INDEX sms_messages_by_customer ON sms_messages (customer_id, created_at DESC);
CREATE INDEX sms_messages_reply_to ON sms_messages (reply_to) WHERE reply_to IS NOT NULL;
-- the outbox's work list: small, whatever the size of the history
CREATE INDEX sms_messages_due ON sms_messages (next_attempt, id) WHERE status = 'queued';

-- A queued row wakes the daemon's outbox at commit (one notification per transaction).
CREATE FUNCTION sms_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('spaza_outbox', '');
	RETURN NULL;
END $$;
CREATE TRIGGER sms_messages_queued AFTER INSERT ON sms_messages
	FOR EACH ROW WHEN (NEW.status = 'queued') EXECUTE FUNCTION sms_outbox_notify();

-- Order notifications: one row per new order and per status change, rendered when sent.
CREATE FUNCTION sms_order_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO sms_messages (customer_id, direction, kind, order_id, order_status, status)
	VALUES (NEW.customer_id, 'out', CASE WHEN TG_OP = 'INSERT' THEN 'order_placed' ELSE 'order_status' END,
		NEW.id, NEW.status, 'queued');
	RETURN NULL;
END $$;
CREATE TRIGGER orders_sms_placed AFTER INSERT ON orders
	FOR EACH ROW EXECUTE FUNCTION sms_order_notify();
CREATE TRIGGER orders_sms_status AFTER UPDATE OF status ON orders
	FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION sms_order_notify();
