-- The checks after a fault run (scripts/soak, tests/integration/fault_*.sh):
--   psql -X -v ON_ERROR_STOP=1 -qtA -F ' ' -f scripts/soak-checks.sql < FILE
-- FILE is what spaza-load --acks wrote (WHAT KIND ORDER PHONE SESSION HOP a line). One line per
-- figure: NAME VALUE [VALUE...]; the callers compare them. Only temporary tables are made.
CREATE TEMP TABLE acks (what text, kind text, order_id bigint, phone text, session text, hop integer);
\copy acks FROM pstdin WITH (FORMAT text, DELIMITER ' ')
-- per session of the load tool: what it was told, its orders (key "at:SESSION:INPUT"), its
-- voucher payments (key "at:SESSION:INPUT:voucher")
CREATE TEMP TABLE told AS SELECT session, bool_or(what = 'slow') AS slow, bool_or(what = 'polite') AS polite,
	count(*) FILTER (WHERE what = 'order') AS acked_orders, count(*) FILTER (WHERE what = 'paid') AS acked_paid
	FROM acks GROUP BY session;
CREATE TEMP TABLE ro AS SELECT o.id, o.status, c.msisdn, split_part(o.idem_key, ':', 2) AS session
	FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.idem_key LIKE 'at:%';
CREATE TEMP TABLE pays AS SELECT t.id, t.order_id, split_part(t.idem_key, ':', 2) AS session
	FROM ledger_txns t WHERE t.reason = 'voucher_redeem';
CREATE TEMP TABLE sess AS SELECT coalesce(t.session, o.session, p.session) AS session,
	coalesce(t.slow, false) AS slow, coalesce(t.polite, false) AS polite,
	coalesce(t.acked_orders, 0) AS acked_orders, coalesce(t.acked_paid, 0) AS acked_paid,
	coalesce(o.n, 0) AS orders, coalesce(p.n, 0) AS pays
	FROM told t
	FULL JOIN (SELECT session, count(*) AS n FROM ro GROUP BY session) o ON o.session = t.session
	FULL JOIN (SELECT session, count(*) AS n FROM pays GROUP BY session) p ON p.session = coalesce(t.session, o.session);
CREATE TEMP TABLE sms AS SELECT order_id, count(*) FILTER (WHERE kind = 'order_placed') AS placed,
	count(*) FILTER (WHERE kind = 'order_status' AND order_status = 'paid') AS paid
	FROM sms_messages WHERE order_id IS NOT NULL GROUP BY order_id;
SELECT 'acked_orders', count(*), count(DISTINCT order_id) FROM acks WHERE what = 'order';
SELECT 'orders_in_db', count(*) FROM ro;
SELECT 'acked_missing', count(*) FROM acks a LEFT JOIN ro ON ro.id = a.order_id AND ro.msisdn = a.phone
	AND ro.session = a.session WHERE a.what = 'order' AND ro.id IS NULL;
SELECT 'acked_by_two_sessions', count(*) FROM (SELECT order_id FROM acks WHERE what = 'order'
	GROUP BY order_id HAVING count(DISTINCT session) > 1) x;
SELECT 'sessions_with_two_orders', count(*) FROM sess WHERE orders > 1;
SELECT 'unacked_commits', coalesce(sum(orders - acked_orders), 0), coalesce(sum(orders - acked_orders) FILTER (WHERE slow), 0),
	coalesce(sum(orders - acked_orders) FILTER (WHERE polite), 0) FROM sess WHERE orders > acked_orders;
SELECT 'acked_paid', count(*) FROM acks WHERE what = 'paid';
SELECT 'paid_without_one_txn', count(*) FROM acks a
	LEFT JOIN (SELECT order_id, session, count(*) AS n FROM pays GROUP BY 1, 2) p ON p.order_id = a.order_id AND p.session = a.session
	WHERE a.what = 'paid' AND coalesce(p.n, 0) <> 1;
SELECT 'payments_in_db', count(*) FROM pays WHERE session LIKE 'L%';
SELECT 'orders_paid_twice', count(*) FROM (SELECT order_id FROM pays GROUP BY order_id HAVING count(*) > 1) x;
SELECT 'unacked_payments', coalesce(sum(pays - acked_paid), 0), coalesce(sum(pays - acked_paid) FILTER (WHERE slow), 0),
	coalesce(sum(pays - acked_paid) FILTER (WHERE polite), 0) FROM sess WHERE pays > acked_paid AND session LIKE 'L%';
-- "we'll SMS you": on the hop that orders or pays, the work must have been done, once
SELECT 'slow_orders', count(*), count(*) FILTER (WHERE s.orders = 1) FROM acks a JOIN sess s USING (session)
	WHERE a.what = 'slow' AND a.kind = 'browse';
SELECT 'slow_payments', count(*), count(*) FILTER (WHERE s.pays = 1) FROM acks a JOIN sess s USING (session)
	WHERE a.what = 'slow' AND a.kind = 'voucher';
SELECT 'slow_other', count(*) FROM acks WHERE what = 'slow' AND kind NOT IN ('browse', 'voucher');
SELECT 'outbox_placed_not_one', count(*) FROM orders o LEFT JOIN sms ON sms.order_id = o.id WHERE coalesce(sms.placed, 0) <> 1;
SELECT 'outbox_paid_not_one', count(*) FROM (SELECT DISTINCT order_id FROM pays) p
	LEFT JOIN sms USING (order_id) WHERE coalesce(sms.paid, 0) <> 1;
SELECT 'outbox_rows', count(*) FILTER (WHERE kind = 'order_placed'), count(*) FILTER (WHERE kind = 'order_status'),
	count(*) FILTER (WHERE status = 'queued'), count(*) FILTER (WHERE status = 'sent'),
	count(*) FILTER (WHERE status = 'delivered'), count(*) FILTER (WHERE status = 'failed')
	FROM sms_messages WHERE direction = 'out' AND kind IN ('order_placed', 'order_status');
