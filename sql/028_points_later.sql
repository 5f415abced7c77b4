-- Loyalty points are earned just after the payment, not inside it.
--
-- A voucher, credit or slip payment holds its customer's database connection (and so every
-- other customer queued on it) for as long as its transaction runs. The points posting an order
-- earns (sql/018: a second ledger transaction with its balance checks) was a seventh of that
-- time, for something the customer does not wait for. The payment now only queues the order
-- (one small row, in its own transaction: a payment that commits has its points owed, a
-- payment that rolls back owes none); spazad's points sweep (domain/points_sweep.c) posts the
-- queue in batches on its lazy connection, a second or so later. The posting and the queue
-- row's removal commit together, so a crash that loses one loses both and the next sweep posts
-- it again; the key (loyalty:earn:<order>) would refuse a second posting anyway.
--
-- What could read a points balance in between: a refund of that order (the pending earning is
-- posted first, by the trigger below, so its reversal finds it), the expiry (which would take
-- the points a second later anyway), and the customer spending points within that second
-- (they are not there yet; they will be).

CREATE TABLE points_due (
	order_id    bigint PRIMARY KEY,
	customer_id bigint NOT NULL,
	points      bigint NOT NULL CHECK (points > 0),
	at          timestamptz NOT NULL DEFAULT now()
);

DROP TRIGGER orders_loyalty_earn ON orders;
DROP FUNCTION spaza__loyalty_earn();

-- An order that becomes paid owes its customer points_per_rand per whole rand of its total,
-- once: an order paid again (a till reversed the slip and it was paid anew) owes nothing more
-- (ON CONFLICT here, and the posting's key in the sweep).
CREATE FUNCTION spaza__points_owe() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	INSERT INTO points_due (order_id, customer_id, points)
		SELECT NEW.id, NEW.customer_id, (NEW.total_cents / 100) * r.points_per_rand FROM loyalty_rules r
		WHERE (NEW.total_cents / 100) * r.points_per_rand > 0
		ON CONFLICT (order_id) DO NOTHING;
	RETURN NULL;
END $$;
CREATE TRIGGER orders_points_owe AFTER UPDATE OF status ON orders FOR EACH ROW
	WHEN (NEW.status = 'paid' AND OLD.status IS DISTINCT FROM 'paid') EXECUTE FUNCTION spaza__points_owe();

-- Post what one order owes (its queue row goes with it). Returns the points posted, 0 when
-- nothing was owed or another transaction posted it first (it waits for that one's commit).
CREATE FUNCTION spaza__points_pay_due(p_order bigint) RETURNS bigint LANGUAGE plpgsql
SET search_path = public, pg_temp AS $$
DECLARE
	v_customer bigint;
	v_points bigint;
BEGIN
	DELETE FROM points_due d WHERE d.order_id = p_order RETURNING d.customer_id, d.points INTO v_customer, v_points;
	IF NOT FOUND OR EXISTS (SELECT 1 FROM ledger_txns t WHERE t.idem_key = 'loyalty:earn:' || p_order) THEN
		RETURN 0;
	END IF;
	PERFORM spaza__points_post('loyalty:earn:' || p_order, 'loyalty_earn', p_order, v_customer, v_points);
	RETURN v_points;
END $$;

-- The sweep: up to p_limit orders, oldest first; rows another sweep holds are skipped. Returns
-- how many were posted (p_limit: call again at once, there may be more). spazad runs it on its
-- lazy connection (synchronous_commit off, for the timeline): points are money, so this
-- transaction waits for its commit to be on disk like any posting.
CREATE FUNCTION spaza_points_sweep(p_limit integer) RETURNS integer LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	v_order bigint;
	v_n integer := 0;
BEGIN
	PERFORM set_config('synchronous_commit', 'on', true);
	FOR v_order IN SELECT d.order_id FROM points_due d ORDER BY d.at, d.order_id LIMIT p_limit
			FOR UPDATE SKIP LOCKED LOOP
		PERFORM spaza__points_pay_due(v_order);
		v_n := v_n + 1;
	END LOOP;
	RETURN v_n;
END $$;

-- A refund or reversal of an order whose points are still owed: post them first, so the
-- reversal (ledger_txns_loyalty_reverse, which fires after this one: deferred triggers of one
-- event fire in name order) finds what the order earned and takes back its share.
CREATE FUNCTION spaza__points_due_first() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	PERFORM spaza__points_pay_due(NEW.order_id);
	RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_txns_loyalty_due AFTER INSERT ON ledger_txns
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.reason IN ('refund', 'reversal') AND NEW.order_id IS NOT NULL)
	EXECUTE FUNCTION spaza__points_due_first();

REVOKE ALL ON points_due FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION spaza__points_owe, spaza__points_pay_due, spaza__points_due_first, spaza_points_sweep
	FROM PUBLIC;
DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT EXECUTE ON FUNCTION spaza_points_sweep TO spaza_app;
	END IF;
END $$;
