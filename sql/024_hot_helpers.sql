-- The money helpers a payment runs, as PL/pgSQL.
--
-- A SQL-language function with its own `SET search_path` (every function here has one:
-- doc/security.md, db_roles.sh) cannot be inlined, and a SQL function that is not inlined is
-- parsed and planned again at every call; PL/pgSQL keeps its plans for the connection. Every
-- voucher, credit or slip payment runs these from its triggers (the money event, the
-- double-charge note, loyalty points), several times each: as SQL they cost about 3 ms a payment
-- under the shop mix (doc/benchmark.md). Same bodies, same results; sql/010_perf.sql did the same
-- for the ledger's own helpers.

CREATE OR REPLACE FUNCTION spaza__txn_sales(p_txn bigint) RETURNS bigint LANGUAGE plpgsql STABLE
SET search_path = public, pg_temp AS $$
BEGIN
	RETURN (SELECT coalesce(-sum(e.amount_cents), 0) FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
		WHERE e.txn_id = p_txn AND a.kind = 'sales');
END $$;

CREATE OR REPLACE FUNCTION spaza__txn_reversed(p_txn bigint) RETURNS bigint LANGUAGE plpgsql STABLE
SET search_path = public, pg_temp AS $$
BEGIN
	RETURN (SELECT coalesce(sum(p.amount_cents), 0) FROM till_payments p
		WHERE p.ledger_txn_id = p_txn AND p.status = 'reversed');
END $$;

CREATE OR REPLACE FUNCTION spaza__store_credit(p_customer_id bigint) RETURNS bigint LANGUAGE plpgsql STABLE
SET search_path = public, pg_temp AS $$
BEGIN
	RETURN (SELECT coalesce(-sum(e.amount_cents), 0) FROM ledger_accounts a JOIN ledger_entries e ON e.account_id = a.id
		WHERE a.kind = 'store_credit' AND a.owner_id = p_customer_id);
END $$;

CREATE OR REPLACE FUNCTION spaza__points(p_customer bigint) RETURNS bigint LANGUAGE plpgsql STABLE
SET search_path = public, pg_temp AS $$
BEGIN
	RETURN (SELECT coalesce(-sum(e.amount_cents), 0) FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
		WHERE a.kind = 'loyalty_points' AND a.owner_id = p_customer);
END $$;

CREATE OR REPLACE FUNCTION spaza__rand(p_cents bigint) RETURNS text LANGUAGE plpgsql IMMUTABLE
SET search_path = public, pg_temp AS $$
BEGIN
	RETURN 'R' || to_char(p_cents / 100.0, 'FM999999999990.00');
END $$;

CREATE OR REPLACE FUNCTION spaza__points_post(p_key text, p_reason text, p_order bigint, p_customer bigint, p_points bigint)
RETURNS bigint LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
	RETURN spaza__post(p_key, p_reason, NULL, spaza__hash(p_reason, p_customer::text, p_points::text),
		jsonb_build_object('points', p_points, 'order', p_order, 'customer', p_customer),
		ARRAY[spaza__account('loyalty_issued', NULL), spaza__account('loyalty_points', p_customer)],
		ARRAY[p_points, -p_points]);
END $$;

CREATE OR REPLACE FUNCTION spaza__dc_order(p_order_id bigint)
RETURNS TABLE (kind text, customer_id bigint, order_id bigint, first_txn_id bigint, dup_txn_id bigint, amount_cents bigint)
LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY
	WITH pays AS (
		SELECT t.id, t.reason, o.customer_id, o.total_cents,
		       spaza__txn_sales(t.id) - spaza__txn_reversed(t.id) AS amount
		FROM ledger_txns t JOIN orders o ON o.id = t.order_id
		WHERE t.order_id = p_order_id AND spaza__is_payment(t.reason)
	), run AS (
		SELECT p.*, coalesce(sum(p.amount) OVER (ORDER BY p.id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before,
		       first_value(p.id) OVER (ORDER BY p.id) AS first_id,
		       first_value(p.reason) OVER (ORDER BY p.id) AS first_reason
		FROM pays p WHERE p.amount > 0
	)
	SELECT CASE WHEN r.reason = 'slip_payment' AND r.first_reason <> 'slip_payment' THEN 'slip_after_other'
		    ELSE 'same_order' END,
	       r.customer_id, p_order_id, r.first_id, r.id, r.amount
	FROM run r WHERE r.before >= r.total_cents;
END $$;

CREATE OR REPLACE FUNCTION spaza__refundable(p_order_id bigint, p_only bigint)
RETURNS TABLE (txn_id bigint, reason text, result jsonb, left_cents bigint)
LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY
	SELECT * FROM (
		SELECT t.id, t.reason, t.result, (spaza__txn_sales(t.id) - spaza__txn_reversed(t.id)
			- coalesce((SELECT sum(f.amount_cents) FROM refunds f WHERE f.payment_txn_id = t.id), 0))::bigint AS left_cents
		FROM ledger_txns t
		WHERE t.order_id = p_order_id AND spaza__is_payment(t.reason) AND (p_only IS NULL OR t.id = p_only)
	) x WHERE x.left_cents > 0;
END $$;

-- The per-payment double-charge note: one payment on an order cannot be a double charge (every
-- kind spaza__dc_order finds needs an earlier payment of the same order), and one payment is
-- what nearly every order has, so that case costs one index probe instead of the whole scan.
CREATE OR REPLACE FUNCTION spaza__dc_note(p_order_id bigint) RETURNS integer LANGUAGE plpgsql
SET search_path = public, pg_temp AS $$
DECLARE
	v_n integer;
BEGIN
	IF (SELECT count(*) FROM (SELECT 1 FROM ledger_txns t
			WHERE t.order_id = p_order_id AND spaza__is_payment(t.reason) LIMIT 2) x) < 2 THEN
		RETURN 0;
	END IF;
	INSERT INTO double_charges (kind, customer_id, order_id, first_txn_id, dup_txn_id, amount_cents)
		SELECT d.kind, d.customer_id, d.order_id, d.first_txn_id, d.dup_txn_id, d.amount_cents
		FROM spaza__dc_order(p_order_id) d
		WHERE NOT EXISTS (SELECT 1 FROM refunds f WHERE f.payment_txn_id = d.dup_txn_id AND f.duplicate)
		ON CONFLICT (dup_txn_id) DO NOTHING;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	RETURN v_n;
END $$;
