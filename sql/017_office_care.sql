-- Spaza schema, step 17: the back office's Care page and Customer 360 actions (doc/back-office.md).
--
-- The runtime role reads no care table (db_roles.sh proves it): the queue, a ticket and its
-- messages are read through functions here, which spazactl's `care list|show` call too (one
-- statement each in db_stmts.def, one place for the clocks' rule). The money rooms a member of
-- staff may use from a page (a refund, the double-charge evidence and its refund) are the
-- owner's functions of sql/012; each wrapper here first checks the caller's live session and
-- role, as spaza_staff_credit_set_limit (sql/014) does, so a page can do nothing its role may not.

-- The queue, newest first (at most 200): a clock is breached when its deadline passed before the
-- answer (or the answer has not come). first_due/resolve_due: the deadlines, for the page's clocks.
CREATE FUNCTION spaza_care_queue(p_open boolean, p_breached boolean, p_frt_min integer, p_res_h integer)
RETURNS TABLE (id bigint, opened text, msisdn text, kind text, order_id bigint, channel text, state text,
	       frt boolean, res boolean, msgs bigint, first_due text, resolve_due text)
LANGUAGE sql STABLE AS $$
	SELECT * FROM (SELECT t.id, to_char(t.opened_at, 'YYYY-MM-DD HH24:MI'), c.msisdn, t.kind, t.order_id, t.channel,
		t.state, coalesce(t.first_response_at, now()) > t.opened_at + make_interval(mins => p_frt_min) AS frt,
		coalesce(t.resolved_at, now()) > t.opened_at + make_interval(hours => p_res_h) AS res,
		(SELECT count(*) FROM care_messages m WHERE m.ticket_id = t.id AND m.direction <> 'step'),
		to_char(t.opened_at + make_interval(mins => p_frt_min), 'YYYY-MM-DD HH24:MI'),
		to_char(t.opened_at + make_interval(hours => p_res_h), 'YYYY-MM-DD HH24:MI')
		FROM care_tickets t JOIN customers c ON c.id = t.customer_id
		WHERE (NOT p_open OR t.state IN ('open', 'waiting'))) l
	WHERE NOT p_breached OR l.frt OR l.res ORDER BY l.id DESC LIMIT 200
$$;

-- One ticket: id, customer, msisdn, kind, order, channel, state, opened, first response, resolved, closed.
CREATE FUNCTION spaza_care_ticket(p_id bigint)
RETURNS TABLE (id bigint, customer_id bigint, msisdn text, kind text, order_id bigint, channel text, state text,
	       opened text, answered text, resolved text, closed text)
LANGUAGE sql STABLE AS $$
	SELECT t.id, t.customer_id, c.msisdn, t.kind, t.order_id, t.channel, t.state,
		to_char(t.opened_at, 'YYYY-MM-DD HH24:MI:SS'), to_char(t.first_response_at, 'YYYY-MM-DD HH24:MI:SS'),
		to_char(t.resolved_at, 'YYYY-MM-DD HH24:MI:SS'), to_char(t.closed_at, 'YYYY-MM-DD HH24:MI:SS')
	FROM care_tickets t JOIN customers c ON c.id = t.customer_id WHERE t.id = p_id
$$;

-- A ticket's messages and steps, in order: at, direction, step, author, text, the SMS's status.
CREATE FUNCTION spaza_care_ticket_messages(p_id bigint)
RETURNS TABLE (at text, direction text, step text, author text, text text, sms_status text)
LANGUAGE sql STABLE AS $$
	SELECT to_char(m.at, 'YYYY-MM-DD HH24:MI:SS'), m.direction, m.step, m.author, m.text, s.status
	FROM care_messages m LEFT JOIN sms_messages s ON s.id = m.sms_id WHERE m.ticket_id = p_id ORDER BY m.id
$$;

-- Today's "open tickets past their clock": live tickets whose first response or resolution is late.
-- The live ones only (care_tickets_live), whatever the history's size.
CREATE FUNCTION spaza_care_overdue(p_frt_min integer, p_res_h integer, OUT open bigint, OUT first_late bigint,
				   OUT resolution_late bigint, OUT late bigint)
LANGUAGE sql STABLE AS $$
	SELECT count(*),
		count(*) FILTER (WHERE coalesce(first_response_at, now()) > opened_at + make_interval(mins => p_frt_min)),
		count(*) FILTER (WHERE now() > opened_at + make_interval(hours => p_res_h)),
		count(*) FILTER (WHERE coalesce(first_response_at, now()) > opened_at + make_interval(mins => p_frt_min)
				 OR now() > opened_at + make_interval(hours => p_res_h))
	FROM care_tickets WHERE state IN ('open', 'waiting')
$$;

-- Whether p_session is a live session of one of p_roles.
CREATE FUNCTION spaza__staff_may(p_session bytea, p_roles text[]) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM staff_sessions x JOIN staff s ON s.id = x.staff_id
		       WHERE x.token_sha256 = p_session AND x.expires_at > now() AND NOT s.disabled
			 AND s.role = ANY (p_roles))
$$;

-- A refund from a page (finance, owner): spaza_refund, where the money came from or to store
-- credit; no new voucher (its PIN is spazactl's: `spazactl refund --to voucher`). not_found: not
-- such a session.
CREATE FUNCTION spaza_staff_refund(p_session bytea, p_key text, p_order_id bigint, p_amount_cents bigint, p_to text,
				   p_reason text, OUT outcome text, OUT refund_cents bigint, OUT customer_id bigint,
				   OUT refund_to text, OUT voucher_last4 text)
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT spaza__staff_may(p_session, ARRAY['owner', 'finance']) OR p_to IS DISTINCT FROM NULL AND p_to <> 'store_credit' THEN
		outcome := 'not_found';
		RETURN;
	END IF;
	SELECT r.outcome, r.refund_cents, r.customer_id, r.refund_to, r.voucher_last4
	INTO outcome, refund_cents, customer_id, refund_to, voucher_last4
	FROM spaza_refund(p_key, p_order_id, p_amount_cents, p_to, p_reason) r;
END $$;

-- The double-charge evidence of one customer (care, finance, owner): spaza_dc_scan's rows.
CREATE FUNCTION spaza_staff_dc_scan(p_session bytea, p_customer_id bigint)
RETURNS TABLE (id bigint, kind text, status text, order_id bigint, dup_txn_id bigint, amount_cents bigint, found_at text)
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT spaza__staff_may(p_session, ARRAY['owner', 'care', 'finance']) THEN
		RETURN;
	END IF;
	RETURN QUERY SELECT d.id, d.kind, d.status, d.order_id, d.dup_txn_id, d.amount_cents,
		to_char(d.found_at, 'YYYY-MM-DD HH24:MI:SS') FROM spaza_dc_scan(p_customer_id, NULL) d;
END $$;

-- Refund one double charge (finance, owner): spaza_dc_refund, once by its key.
CREATE FUNCTION spaza_staff_dc_refund(p_session bytea, p_id bigint, OUT outcome text, OUT refund_cents bigint,
				      OUT customer_id bigint, OUT refund_to text, OUT order_id bigint, OUT dup_txn_id bigint)
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT spaza__staff_may(p_session, ARRAY['owner', 'finance']) THEN
		outcome := 'not_found';
		RETURN;
	END IF;
	SELECT r.outcome, r.refund_cents, r.customer_id, r.refund_to, r.order_id INTO outcome, refund_cents, customer_id,
		refund_to, order_id FROM spaza_dc_refund(p_id) r;
	SELECT d.dup_txn_id INTO dup_txn_id FROM double_charges d WHERE d.id = p_id;
END $$;

-- SECURITY DEFINER and the fixed search_path after the bodies, as in 011: a SQL function's body is
-- checked when it is made, under the migration's own search_path.
ALTER FUNCTION spaza_care_queue SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_care_ticket SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_care_ticket_messages SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_care_overdue SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza__staff_may SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_staff_refund SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_staff_dc_scan SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_staff_dc_refund SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE ALL ON FUNCTION spaza_care_queue, spaza_care_ticket, spaza_care_ticket_messages, spaza_care_overdue,
	spaza__staff_may, spaza_staff_refund, spaza_staff_dc_scan, spaza_staff_dc_refund FROM PUBLIC;
DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT EXECUTE ON FUNCTION spaza_care_queue, spaza_care_ticket, spaza_care_ticket_messages,
			spaza_care_overdue, spaza_staff_refund, spaza_staff_dc_scan, spaza_staff_dc_refund TO spaza_app;
	END IF;
END $$;

-- Today's figures since midnight (OFFICE_ORDERS_SINCE, OFFICE_SMS_SINCE) read today's rows by
-- time, not every order and SMS ever: with 100,000 orders the page took 225 ms walking them
-- (doc/benchmark.md "The back office").
CREATE INDEX IF NOT EXISTS orders_by_created ON orders (created_at);
CREATE INDEX sms_messages_out_by_created ON sms_messages (created_at) WHERE direction = 'out';
