-- Spaza schema, step 11: customer care (doc/staff-guide.md, "Customer care").
--
-- Care tickets opened by a customer (USSD, SMS) or by staff, their messages and steps; ratings
-- of delivered orders; staff notes on a customer; lifting a voucher-PIN lockout; and the merged
-- customer timeline, one indexed query over the timeline_* views (one view per domain, the
-- columns every branch agrees on: customer_id, at, kind, ref, summary).
--
-- Every write goes through a spaza_* function (SECURITY DEFINER, fixed search_path): spazad
-- (SMS, USSD) and the back office run as the runtime role with EXECUTE on those and no rights on
-- the tables; spazactl runs the same functions as the owner.

------------------------------------------------------------------------------------------
-- Tickets. Numbers are short and typable: a plain sequence from 101 (orders start at 1001).
CREATE SEQUENCE care_ticket_no START 101;

CREATE TABLE care_tickets (
	id                bigint PRIMARY KEY DEFAULT nextval('care_ticket_no'),
	customer_id       bigint NOT NULL REFERENCES customers(id),
	order_id          bigint REFERENCES orders(id),
	kind              text NOT NULL CHECK (kind IN ('not_delivered', 'wrong_item', 'damaged', 'charged_twice',
					'want_refund', 'other', 'free_text')),
	channel           text NOT NULL CHECK (channel IN ('ussd', 'sms', 'staff')),
	-- open: staff's turn; waiting: the customer's (a staff reply); resolved; closed (final)
	state             text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'waiting', 'resolved', 'closed')),
	opened_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
	first_response_at timestamptz,
	resolved_at       timestamptz,
	closed_at         timestamptz,
	-- when spazad's sweep counted the ticket's breach of each clock (once each)
	first_response_breached_at timestamptz,
	resolution_breached_at     timestamptz
);
CREATE INDEX care_tickets_by_customer ON care_tickets (customer_id, opened_at DESC);
-- the sweep and `care list --open` read the live ones only, whatever the history's size
CREATE INDEX care_tickets_live ON care_tickets (opened_at) WHERE state IN ('open', 'waiting');

-- A ticket's messages (in: the customer's; out: staff's replies, sent by SMS) and its steps.
CREATE TABLE care_messages (
	id          bigserial PRIMARY KEY,
	ticket_id   bigint NOT NULL REFERENCES care_tickets(id),
	customer_id bigint NOT NULL REFERENCES customers(id),
	at          timestamptz NOT NULL DEFAULT clock_timestamp(),
	direction   text NOT NULL CHECK (direction IN ('in', 'out', 'step')),
	step        text NOT NULL CHECK (step IN ('opened', 'message', 'reply', 'resolved', 'closed')),
	text        text,
	author      text NOT NULL,	-- the customer's channel (ussd, sms) or the staff member (OS user)
	sms_id      bigint REFERENCES sms_messages(id),
	-- the request that wrote it (an SMS's channel and message id, a USSD hop's key): a
	-- delivery or hop repeated opens nothing twice
	idem_key    text UNIQUE
);
CREATE INDEX care_messages_by_ticket ON care_messages (ticket_id, id);
CREATE INDEX care_messages_by_customer ON care_messages (customer_id, at DESC);

------------------------------------------------------------------------------------------
-- Ratings: one per delivered order; rating again replaces the stars and comment (times counts).
CREATE TABLE ratings (
	order_id    bigint PRIMARY KEY REFERENCES orders(id),
	customer_id bigint NOT NULL REFERENCES customers(id),
	stars       smallint NOT NULL CHECK (stars BETWEEN 1 AND 5),
	comment     text,
	channel     text NOT NULL CHECK (channel IN ('ussd', 'sms')),
	rated_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
	times       integer NOT NULL DEFAULT 1
);
CREATE INDEX ratings_by_customer ON ratings (customer_id, rated_at DESC);

-- Staff notes on a customer.
CREATE TABLE customer_notes (
	id          bigserial PRIMARY KEY,
	customer_id bigint NOT NULL REFERENCES customers(id),
	at          timestamptz NOT NULL DEFAULT clock_timestamp(),
	author      text NOT NULL,
	text        text NOT NULL CHECK (text <> '')
);
CREATE INDEX customer_notes_by_customer ON customer_notes (customer_id, at DESC);

-- A lifted voucher-PIN lockout. The lockout (sql/002_ledger.sql) counts the last 24 hours'
-- rows of voucher_failures; lifting it moves those rows here, so nothing is lost and the
-- timeline still shows each failure, and the count starts again from zero.
CREATE TABLE pin_unlocks (
	id          bigserial PRIMARY KEY,
	customer_id bigint NOT NULL REFERENCES customers(id),
	at          timestamptz NOT NULL DEFAULT clock_timestamp(),
	author      text NOT NULL,
	failures    integer NOT NULL
);
CREATE INDEX pin_unlocks_by_customer ON pin_unlocks (customer_id, at DESC);
CREATE TABLE voucher_failures_lifted (
	id           bigint PRIMARY KEY,	-- voucher_failures.id
	customer_id  bigint NOT NULL REFERENCES customers(id),
	idem_key     text NOT NULL,
	outcome      text NOT NULL,
	at           timestamptz NOT NULL,
	unlock_id    bigint NOT NULL REFERENCES pin_unlocks(id)
);
CREATE INDEX voucher_failures_lifted_by_customer ON voucher_failures_lifted (customer_id, at);

-- The order branch of the timeline reads orders by customer and time.
CREATE INDEX orders_by_customer_time ON orders (customer_id, created_at DESC);

------------------------------------------------------------------------------------------
-- Opening a ticket, or adding the customer's message to one already open.
--   opened     a new ticket (ticket_id)
--   joined     the message went on the customer's open ticket: free text joins the newest ticket
--              waiting on the customer (they answer a staff reply), else the newest open one; a
--              complaint joins an open or waiting one of the same order and kind. A waiting
--              ticket becomes open again (the customer answered).
--   not_found  p_order is not this customer's order
-- A repeated p_idem_key answers as the first time and writes nothing.
CREATE FUNCTION spaza_care_open(p_customer bigint, p_order bigint, p_kind text, p_channel text, p_text text,
				p_author text, p_idem_key text, OUT outcome text, OUT ticket_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_first care_messages%ROWTYPE;
BEGIN
	SELECT * INTO v_first FROM care_messages m WHERE m.idem_key = p_idem_key;
	IF FOUND THEN
		outcome := CASE v_first.step WHEN 'opened' THEN 'opened' ELSE 'joined' END;
		ticket_id := v_first.ticket_id;
		RETURN;
	END IF;
	IF p_order IS NOT NULL AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = p_order AND o.customer_id = p_customer) THEN
		outcome := 'not_found';
		RETURN;
	END IF;
	-- one customer's messages one at a time: two at once must not open two tickets
	PERFORM 1 FROM customers c WHERE c.id = p_customer FOR UPDATE;
	-- a ticket waiting on the customer is the conversation they answer; else the newest open one
	SELECT t.id INTO ticket_id FROM care_tickets t
		WHERE t.customer_id = p_customer AND t.state IN ('open', 'waiting')
		AND (p_kind = 'free_text' OR (t.order_id IS NOT DISTINCT FROM p_order AND t.kind = p_kind))
		ORDER BY t.state = 'waiting' DESC, t.opened_at DESC LIMIT 1;
	IF FOUND THEN
		UPDATE care_tickets SET state = 'open' WHERE id = ticket_id;
		INSERT INTO care_messages (ticket_id, customer_id, direction, step, text, author, idem_key)
			VALUES (ticket_id, p_customer, 'in', 'message', p_text, p_author, p_idem_key);
		outcome := 'joined';
		RETURN;
	END IF;
	INSERT INTO care_tickets (customer_id, order_id, kind, channel) VALUES (p_customer, p_order, p_kind, p_channel)
		RETURNING id INTO ticket_id;
	INSERT INTO care_messages (ticket_id, customer_id, direction, step, text, author, idem_key)
		VALUES (ticket_id, p_customer, CASE p_channel WHEN 'staff' THEN 'step' ELSE 'in' END, 'opened', p_text,
			p_author, p_idem_key);
	outcome := 'opened';
END $$;

-- A staff reply: queued as an SMS for the outbox (the same row `spazactl sms send` writes), kept
-- on the ticket, which now waits on the customer.
--   replied    sms_id is the queued SMS
--   not_found  no such ticket; closed: a closed ticket takes no reply
CREATE FUNCTION spaza_care_reply(p_ticket bigint, p_text text, p_author text,
				 OUT outcome text, OUT sms_id bigint, OUT customer_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_t care_tickets%ROWTYPE;
BEGIN
	SELECT * INTO v_t FROM care_tickets t WHERE t.id = p_ticket FOR UPDATE;
	IF NOT FOUND THEN
		outcome := 'not_found';
		RETURN;
	END IF;
	customer_id := v_t.customer_id;
	IF v_t.state = 'closed' THEN
		outcome := 'closed';
		RETURN;
	END IF;
	INSERT INTO sms_messages (customer_id, direction, kind, text, status)
		VALUES (v_t.customer_id, 'out', 'reply', p_text, 'queued') RETURNING id INTO sms_id;
	INSERT INTO care_messages (ticket_id, customer_id, direction, step, text, author, sms_id)
		VALUES (p_ticket, v_t.customer_id, 'out', 'reply', p_text, p_author, sms_id);
	UPDATE care_tickets t SET state = 'waiting', first_response_at = coalesce(t.first_response_at, clock_timestamp()),
		resolved_at = NULL WHERE t.id = p_ticket;
	outcome := 'replied';
END $$;

-- Resolve (from open or waiting) or close (from any state but closed), with an optional note.
--   ok; not_found; already (it is in that state); not_allowed (resolving a closed ticket)
CREATE FUNCTION spaza_care_set_state(p_ticket bigint, p_state text, p_note text, p_author text,
				     OUT outcome text, OUT old_state text)
LANGUAGE plpgsql AS $$
DECLARE
	v_t care_tickets%ROWTYPE;
BEGIN
	IF p_state NOT IN ('resolved', 'closed') THEN
		RAISE EXCEPTION 'spaza_care_set_state: % is not resolved or closed', p_state
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO v_t FROM care_tickets t WHERE t.id = p_ticket FOR UPDATE;
	IF NOT FOUND THEN
		outcome := 'not_found';
		RETURN;
	END IF;
	old_state := v_t.state;
	IF v_t.state = p_state THEN
		outcome := 'already';
		RETURN;
	END IF;
	IF v_t.state = 'closed' THEN
		outcome := 'not_allowed';
		RETURN;
	END IF;
	-- a ticket resolved or closed without a reply was answered by that
	UPDATE care_tickets t SET state = p_state, first_response_at = coalesce(t.first_response_at, clock_timestamp()),
		resolved_at = coalesce(t.resolved_at, clock_timestamp()),
		closed_at = CASE p_state WHEN 'closed' THEN clock_timestamp() END
		WHERE t.id = p_ticket;
	INSERT INTO care_messages (ticket_id, customer_id, direction, step, text, author)
		VALUES (p_ticket, v_t.customer_id, 'step', p_state, p_note, p_author);
	outcome := 'ok';
END $$;

-- The clocks: tickets past a deadline whose breach was not counted yet are marked and counted
-- (spazad's sweep adds the counts to its counters). First response: an open ticket nobody
-- answered within p_first_response_minutes. Resolution: an open or waiting ticket not resolved
-- within p_resolution_hours.
CREATE FUNCTION spaza_care_breaches(p_first_response_minutes integer, p_resolution_hours integer,
				    OUT first_response integer, OUT resolution integer)
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE care_tickets t SET first_response_breached_at = clock_timestamp()
		WHERE t.state IN ('open', 'waiting') AND t.first_response_at IS NULL AND t.first_response_breached_at IS NULL
		AND t.opened_at < clock_timestamp() - make_interval(mins => p_first_response_minutes);
	GET DIAGNOSTICS first_response = ROW_COUNT;
	UPDATE care_tickets t SET resolution_breached_at = clock_timestamp()
		WHERE t.state IN ('open', 'waiting') AND t.resolution_breached_at IS NULL
		AND t.opened_at < clock_timestamp() - make_interval(hours => p_resolution_hours);
	GET DIAGNOSTICS resolution = ROW_COUNT;
END $$;

------------------------------------------------------------------------------------------
-- Ratings.
--   rated      the first rating of the order; changed: it replaced an earlier one
--   not_found  not this customer's order; not_delivered: the order is not delivered
CREATE FUNCTION spaza_care_rate(p_customer bigint, p_order bigint, p_stars integer, p_comment text, p_channel text,
				OUT outcome text)
LANGUAGE plpgsql AS $$
DECLARE
	v_status text;
	v_times integer;
BEGIN
	SELECT o.status INTO v_status FROM orders o WHERE o.id = p_order AND o.customer_id = p_customer;
	IF NOT FOUND THEN
		outcome := 'not_found';
		RETURN;
	END IF;
	IF v_status <> 'delivered' THEN
		outcome := 'not_delivered';
		RETURN;
	END IF;
	IF p_stars NOT BETWEEN 1 AND 5 THEN
		RAISE EXCEPTION 'spaza_care_rate: % stars', p_stars USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO ratings AS r (order_id, customer_id, stars, comment, channel)
		VALUES (p_order, p_customer, p_stars, nullif(p_comment, ''), p_channel)
		ON CONFLICT (order_id) DO UPDATE SET stars = EXCLUDED.stars, comment = EXCLUDED.comment,
			channel = EXCLUDED.channel, rated_at = clock_timestamp(), times = r.times + 1
		RETURNING r.times INTO v_times;
	outcome := CASE WHEN v_times = 1 THEN 'rated' ELSE 'changed' END;
END $$;

-- A bare digit by SMS rates the order of the newest "delivered, rate it" SMS sent to this
-- customer within p_window_minutes. No such SMS: outcome none (the text is then free text).
CREATE FUNCTION spaza_care_rate_reply(p_customer bigint, p_stars integer, p_window_minutes integer,
				      OUT outcome text, OUT order_id bigint)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT m.order_id INTO order_id FROM sms_messages m
		WHERE m.customer_id = p_customer AND m.direction = 'out' AND m.kind = 'order_status'
		AND m.order_status = 'delivered' AND m.created_at > now() - make_interval(mins => p_window_minutes)
		ORDER BY m.created_at DESC, m.id DESC LIMIT 1;
	IF NOT FOUND THEN
		outcome := 'none';
		RETURN;
	END IF;
	outcome := (SELECT r.outcome FROM spaza_care_rate(p_customer, order_id, p_stars, NULL, 'sms') r);
END $$;

------------------------------------------------------------------------------------------
-- Staff notes and lockouts.
CREATE FUNCTION spaza_customer_note(p_customer bigint, p_text text, p_author text, OUT note_id bigint)
LANGUAGE sql AS $$
	INSERT INTO customer_notes (customer_id, text, author) VALUES (p_customer, p_text, p_author) RETURNING id;
$$;

-- The voucher-PIN lockout as the ledger counts it (5 failures in 24 hours): the failures
-- counted now, and when the lockout ends if it is on (NULL: it is not).
CREATE FUNCTION spaza_customer_lockout(p_customer bigint, OUT failures integer, OUT locked_until timestamptz)
LANGUAGE sql STABLE AS $$
	SELECT count(*)::integer,
		CASE WHEN count(*) >= 5 THEN (array_agg(f.at ORDER BY f.at DESC))[5] + interval '24 hours' END
	FROM voucher_failures f WHERE f.customer_id = p_customer AND f.at > now() - interval '24 hours';
$$;

-- Lift the lockout: the counted failures move to voucher_failures_lifted under one unlock.
-- lifted: how many failures moved (0: there was nothing to lift; nothing is recorded then).
CREATE FUNCTION spaza_customer_unlock(p_customer bigint, p_author text, OUT lifted integer, OUT was_locked boolean)
LANGUAGE plpgsql AS $$
DECLARE
	v_unlock bigint;
BEGIN
	PERFORM 1 FROM customers c WHERE c.id = p_customer FOR UPDATE;
	SELECT l.failures, l.locked_until IS NOT NULL INTO lifted, was_locked FROM spaza_customer_lockout(p_customer) l;
	IF lifted = 0 THEN
		RETURN;
	END IF;
	INSERT INTO pin_unlocks (customer_id, author, failures) VALUES (p_customer, p_author, lifted) RETURNING id INTO v_unlock;
	WITH gone AS (DELETE FROM voucher_failures f WHERE f.customer_id = p_customer AND f.at > now() - interval '24 hours'
		      RETURNING f.id, f.customer_id, f.idem_key, f.outcome, f.at)
	INSERT INTO voucher_failures_lifted (id, customer_id, idem_key, outcome, at, unlock_id)
		SELECT g.id, g.customer_id, g.idem_key, g.outcome, g.at, v_unlock FROM gone g;
END $$;

------------------------------------------------------------------------------------------
-- The timeline: one view per domain (customer_id, at, kind, ref, summary), each over a table
-- with an index on (customer_id, time), so spaza_customer_timeline() reads each branch as an
-- index scan, newest first, LIMIT rows at most.

CREATE VIEW timeline_sessions AS
	SELECT s.customer_id, s.started_at AS at, 'session'::text AS kind, s.order_id::text AS ref,
		s.channel || ' ' || s.service_code || ' ' || s.outcome || ', ' || s.hops || ' hops: ' || s.screens AS summary
	FROM ussd_sessions s;

CREATE VIEW timeline_sms AS
	SELECT m.customer_id, m.created_at AS at, CASE m.direction WHEN 'in' THEN 'sms_in' ELSE 'sms_out' END AS kind,
		m.id::text AS ref,
		CASE WHEN m.direction = 'in' THEN coalesce(m.command, '?') || ': "' || coalesce(m.text, '') || '"'
		     ELSE m.kind || ' ' || m.status || coalesce(' (dlr ' || m.dlr || ')', '') || ': '
			|| coalesce('"' || m.text || '"', 'order #' || m.order_id || ' ' || m.order_status, '') END AS summary
	FROM sms_messages m;

-- Orders as placed (the orders branch's timeline_orders adds their status history).
CREATE VIEW timeline_order_placed AS
	SELECT o.customer_id, o.created_at AS at, 'order'::text AS kind, o.id::text AS ref,
		'R' || to_char(o.total_cents / 100.0, 'FM9999999990.00') || ', now ' || o.status AS summary
	FROM orders o;

CREATE VIEW timeline_tickets AS
	SELECT m.customer_id, m.at, 'ticket_' || m.step AS kind, m.ticket_id::text AS ref,
		t.kind || coalesce(' order #' || t.order_id, '') || ' (' || m.author || ')'
			|| coalesce(': "' || m.text || '"', '') AS summary
	FROM care_messages m JOIN care_tickets t ON t.id = m.ticket_id;

CREATE VIEW timeline_ratings AS
	SELECT r.customer_id, r.rated_at AS at, 'rating'::text AS kind, r.order_id::text AS ref,
		r.stars || '/5 by ' || r.channel || CASE WHEN r.times > 1 THEN ' (changed)' ELSE '' END
			|| coalesce(': "' || r.comment || '"', '') AS summary
	FROM ratings r;

CREATE VIEW timeline_notes AS
	SELECT n.customer_id, n.at, 'note'::text AS kind, n.id::text AS ref, n.author || ': "' || n.text || '"' AS summary
	FROM customer_notes n;

-- Each wrong voucher PIN (lifted ones too); one that is the fifth within 24 hours is the lockout.
CREATE VIEW timeline_lockouts AS
	SELECT w.customer_id, w.at, CASE WHEN w.locks THEN 'pin_locked' ELSE 'pin_failed' END AS kind, w.id::text AS ref,
		'voucher PIN refused (' || w.outcome || ')'
			|| CASE WHEN w.locks THEN ': voucher payments locked for 24 h' ELSE '' END AS summary
	FROM (SELECT f.customer_id, f.at, f.id, f.outcome,
		count(*) OVER five = 5 AND first_value(f.at) OVER five > f.at - interval '24 hours' AS locks
	      FROM (SELECT customer_id, at, id, outcome FROM voucher_failures
		    UNION ALL SELECT customer_id, at, id, outcome FROM voucher_failures_lifted) f
	      WINDOW five AS (PARTITION BY f.customer_id ORDER BY f.at, f.id ROWS BETWEEN 4 PRECEDING AND CURRENT ROW)) w;

CREATE VIEW timeline_unlocks AS
	SELECT u.customer_id, u.at, 'pin_unlock'::text AS kind, u.id::text AS ref,
		'PIN lockout lifted by ' || u.author || ' (' || u.failures || ' failures cleared)' AS summary
	FROM pin_unlocks u;

-- One customer's events older than p_before (NULL: all), newest first, at most p_lim. Each
-- branch is ordered and limited on its own, so each is one index scan of p_lim rows at most.
-- Events of one instant (one transaction: an SMS and its reply) come newest number first.
-- The coordinator adds a branch per new view (timeline_money, timeline_orders) here.
CREATE FUNCTION spaza_customer_timeline(p_customer bigint, p_before timestamptz, p_lim integer)
RETURNS TABLE (at timestamptz, kind text, ref text, summary text)
LANGUAGE sql STABLE AS $$
	SELECT t.at, t.kind, t.ref, t.summary FROM (
		(SELECT v.at, v.kind, v.ref, v.summary FROM timeline_sessions v
		 WHERE v.customer_id = p_customer AND v.at < coalesce(p_before, 'infinity') ORDER BY v.at DESC LIMIT p_lim)
		UNION ALL
		(SELECT v.at, v.kind, v.ref, v.summary FROM timeline_sms v
		 WHERE v.customer_id = p_customer AND v.at < coalesce(p_before, 'infinity') ORDER BY v.at DESC LIMIT p_lim)
		UNION ALL
		(SELECT v.at, v.kind, v.ref, v.summary FROM timeline_order_placed v
		 WHERE v.customer_id = p_customer AND v.at < coalesce(p_before, 'infinity') ORDER BY v.at DESC LIMIT p_lim)
		UNION ALL
		(SELECT v.at, v.kind, v.ref, v.summary FROM timeline_tickets v
		 WHERE v.customer_id = p_customer AND v.at < coalesce(p_before, 'infinity') ORDER BY v.at DESC LIMIT p_lim)
		UNION ALL
		(SELECT v.at, v.kind, v.ref, v.summary FROM timeline_ratings v
		 WHERE v.customer_id = p_customer AND v.at < coalesce(p_before, 'infinity') ORDER BY v.at DESC LIMIT p_lim)
		UNION ALL
		(SELECT v.at, v.kind, v.ref, v.summary FROM timeline_notes v
		 WHERE v.customer_id = p_customer AND v.at < coalesce(p_before, 'infinity') ORDER BY v.at DESC LIMIT p_lim)
		UNION ALL
		(SELECT v.at, v.kind, v.ref, v.summary FROM timeline_lockouts v
		 WHERE v.customer_id = p_customer AND v.at < coalesce(p_before, 'infinity') ORDER BY v.at DESC LIMIT p_lim)
		UNION ALL
		(SELECT v.at, v.kind, v.ref, v.summary FROM timeline_unlocks v
		 WHERE v.customer_id = p_customer AND v.at < coalesce(p_before, 'infinity') ORDER BY v.at DESC LIMIT p_lim)
	) t ORDER BY t.at DESC, length(t.ref) DESC, t.ref DESC, t.kind LIMIT p_lim;
$$;

------------------------------------------------------------------------------------------
-- A forgotten customer (spazactl customer forget, sql/008_audit.sql) leaves no words here: their
-- messages, staff's replies and notes about them, their rating comments. The steps stay (when a
-- ticket was opened, answered, closed), as the SMS rows do.
CREATE FUNCTION spaza__care_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE care_messages SET text = NULL WHERE customer_id = NEW.id;
	UPDATE ratings SET comment = NULL WHERE customer_id = NEW.id;
	UPDATE customer_notes SET text = '(forgotten)' WHERE customer_id = NEW.id;
	RETURN NEW;
END $$;
CREATE TRIGGER customers_forget_care AFTER UPDATE OF forgotten_at ON customers FOR EACH ROW
	WHEN (OLD.forgotten_at IS NULL AND NEW.forgotten_at IS NOT NULL) EXECUTE FUNCTION spaza__care_forget();
ALTER FUNCTION spaza__care_forget SET search_path = public, pg_temp;

------------------------------------------------------------------------------------------
-- As the ledger's functions (sql/006_roles.sql): run as their owner with a fixed search_path.
ALTER FUNCTION spaza_care_open SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_care_reply SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_care_set_state SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_care_breaches SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_care_rate SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_care_rate_reply SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_customer_note SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_customer_lockout SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_customer_unlock SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_customer_timeline SECURITY DEFINER SET search_path = public, pg_temp;

-- The runtime role: the customer's side (SMS, USSD), the sweep, and the staff's rooms the back
-- office will call inside spazad; no rights on the tables or views themselves.
DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT EXECUTE ON FUNCTION spaza_care_open, spaza_care_reply, spaza_care_set_state, spaza_care_breaches,
			spaza_care_rate, spaza_care_rate_reply, spaza_customer_note, spaza_customer_lockout,
			spaza_customer_unlock, spaza_customer_timeline TO spaza_app;
	END IF;
END $$;
