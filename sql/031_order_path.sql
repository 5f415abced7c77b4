-- Spaza schema, step 31: a paid order's own work, cheaper: one trigger per event on orders, and
-- the payment test of every money event in PL/pgSQL.
--
-- Nine row triggers had gathered on orders (sql/003, 012, 013, 015, 018, 028), seven of them on
-- a status change, and every paid order fired five: the points owed, the referral check, the RFM
-- step, the SMS row and the status history. Each firing is a PL/pgSQL call with its own
-- search_path switch, on the one backend that carries every customer's writes. Now an order's
-- insert fires one trigger and its status change one, which does the same work in the same order
-- as the triggers it replaces did (theirs was the order of their names). The referral reward,
-- rare, is looked for with one index probe before its function is called; the RFM step keeps
-- one body, shared with the insert of an order already paid. With spaza__is_payment below, a
-- voucher-paid order costs its backend about 14% less CPU (doc/benchmark.md, "sql/031").

-- The RFM step of sql/015 for one order entering (p_now) or leaving the paid statuses.
CREATE FUNCTION spaza__rfm_step(p_customer bigint, p_total bigint, p_at timestamptz, p_now boolean) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF p_now THEN
		INSERT INTO customer_rfm AS c (customer_id, first_paid_at, last_paid_at, orders_paid, spent_cents, r, f, m, segment)
		SELECT p_customer, p_at, p_at, 1, p_total, s.r, s.f, s.m, s.segment
		FROM spaza__rfm_score(p_at, p_at, 1, p_total, now()) s
		ON CONFLICT (customer_id) DO UPDATE SET (first_paid_at, last_paid_at, orders_paid, spent_cents, r, f, m,
							 segment, scored_at) =
			(SELECT least(c.first_paid_at, p_at), greatest(c.last_paid_at, p_at), c.orders_paid + 1,
				c.spent_cents + p_total, s.r, s.f, s.m, s.segment, now()
			 FROM spaza__rfm_score(least(c.first_paid_at, p_at), greatest(c.last_paid_at, p_at),
					       c.orders_paid + 1, c.spent_cents + p_total, now()) s);
		RETURN;
	END IF;
	UPDATE customer_rfm SET orders_paid = orders_paid - 1, spent_cents = spent_cents - p_total
	WHERE customer_id = p_customer AND orders_paid > 1;
	IF NOT FOUND THEN
		DELETE FROM customer_rfm WHERE customer_id = p_customer;
		RETURN;
	END IF;
	UPDATE customer_rfm c SET (r, f, m, segment, scored_at) =
		(SELECT s.r, s.f, s.m, s.segment, now()
		 FROM spaza__rfm_score(c.first_paid_at, c.last_paid_at, c.orders_paid, c.spent_cents, now()) s)
	WHERE c.customer_id = p_customer;
END $$;

-- An order inserted already paid (spazactl's imports) counts at once.
CREATE OR REPLACE FUNCTION spaza__rfm_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM spaza__rfm_step(NEW.customer_id, NEW.total_cents, coalesce(NEW.paid_at, now()), true);
	RETURN NULL;
END $$;
DROP TRIGGER orders_rfm_status ON orders;

-- sql/018's referral reward, for the first paid order of a referred customer.
CREATE FUNCTION spaza__referral_pay(p_order bigint, p_customer bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	v_ref referrals%ROWTYPE;
	v_points integer;
BEGIN
	SELECT * INTO v_ref FROM referrals f WHERE f.referee_id = p_customer AND f.order_id IS NULL FOR UPDATE;
	IF NOT FOUND OR EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = p_customer AND o.id <> p_order
				AND o.paid_at IS NOT NULL) THEN
		RETURN;
	END IF;
	SELECT r.referral_points INTO v_points FROM loyalty_rules r;
	UPDATE referrals SET order_id = p_order, rewarded_at = now() WHERE referee_id = p_customer;
	IF v_points > 0 THEN
		PERFORM spaza__points_post('loyalty:referral:' || p_customer || ':referee', 'loyalty_referral', p_order,
					   p_customer, v_points);
		PERFORM spaza__points_post('loyalty:referral:' || p_customer || ':referrer', 'loyalty_referral', p_order,
					   v_ref.referrer_id, v_points);
	END IF;
	INSERT INTO referral_attempts (referee_id, code, outcome)
		VALUES (p_customer, (SELECT code FROM referral_codes WHERE customer_id = v_ref.referrer_id), 'rewarded');
END $$;
DROP TRIGGER orders_referral_reward ON orders;
DROP FUNCTION spaza__referral_reward();

-- The SMS an order's customer is promised when it is placed and at each change of its status
-- (sql/003): queued in the same transaction, so it is sent if and only if the change commits.
-- Was the trigger function of both events; now the two triggers below call it.
DROP TRIGGER orders_sms_placed ON orders;
DROP TRIGGER orders_sms_status ON orders;
DROP FUNCTION sms_order_notify();
CREATE FUNCTION sms_order_notify(p_customer bigint, p_order bigint, p_status text, p_kind text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO sms_messages (customer_id, direction, kind, order_id, order_status, status)
		VALUES (p_customer, 'out', p_kind, p_order, p_status, 'queued');
END $$;

-- An order placed: its first line (a basket adds the others), its history's first step and the
-- "order placed" SMS (sql/003). Runs as whoever inserts the order, as the two triggers did.
CREATE FUNCTION spaza__order_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO order_items (order_id, line, product_id, qty, unit_cents)
		VALUES (NEW.id, 1, NEW.product_id, NEW.qty, NEW.unit_cents);
	INSERT INTO order_status_history (order_id, customer_id, from_status, status, at)
		VALUES (NEW.id, NEW.customer_id, NULL, NEW.status, NEW.created_at);
	PERFORM sms_order_notify(NEW.customer_id, NEW.id, NEW.status, 'order_placed');
	RETURN NULL;
END $$;
DROP TRIGGER orders_placed ON orders;
DROP FUNCTION spaza__order_placed();
CREATE TRIGGER orders_inserted AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION spaza__order_inserted();

-- A status changed. Only the ledger's functions and the owner change one, so this runs as the
-- owner, as the money parts of it did.
CREATE FUNCTION spaza__order_status_after() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	v_paid_like constant text[] := ARRAY['paid', 'shipped', 'delivered'];
	v_now boolean := NEW.status = ANY (v_paid_like);
BEGIN
	-- an unpaid order that had store credit spent on it gives it back (sql/012)
	IF NEW.status = 'cancelled' AND OLD.status = 'awaiting_payment' AND NEW.store_credit_cents > 0 THEN
		PERFORM spaza_refund('spaza:cancel_sc:' || NEW.id, NEW.id, NULL, 'store_credit', 'order cancelled');
	END IF;
	-- a basket's other lines go back to stock (sql/013; the first line's is the caller's)
	IF NEW.status IN ('cancelled', 'expired') AND OLD.status NOT IN ('cancelled', 'expired') THEN
		UPDATE products p SET stock = p.stock + i.qty
			FROM (SELECT product_id, qty FROM order_items WHERE order_id = NEW.id AND line > 1
			      ORDER BY product_id) i
			WHERE p.id = i.product_id;
	END IF;
	IF NEW.status = 'paid' AND OLD.status IS DISTINCT FROM 'paid' THEN
		-- the points it earns, posted by the sweep (sql/028)
		INSERT INTO points_due (order_id, customer_id, points)
			SELECT NEW.id, NEW.customer_id, (NEW.total_cents / 100) * r.points_per_rand FROM loyalty_rules r
			WHERE (NEW.total_cents / 100) * r.points_per_rand > 0
			ON CONFLICT (order_id) DO NOTHING;
		IF EXISTS (SELECT 1 FROM referrals f WHERE f.referee_id = NEW.customer_id AND f.order_id IS NULL) THEN
			PERFORM spaza__referral_pay(NEW.id, NEW.customer_id);
		END IF;
	END IF;
	IF v_now <> (OLD.status = ANY (v_paid_like)) THEN
		PERFORM spaza__rfm_step(NEW.customer_id, NEW.total_cents, coalesce(NEW.paid_at, now()), v_now);
	END IF;
	PERFORM sms_order_notify(NEW.customer_id, NEW.id, NEW.status, 'order_status');
	INSERT INTO order_status_history (order_id, customer_id, from_status, status)
		VALUES (NEW.id, NEW.customer_id, OLD.status, NEW.status);
	RETURN NULL;
END $$;
DROP TRIGGER orders_cancel_store_credit ON orders;
DROP TRIGGER orders_lines_back ON orders;
DROP TRIGGER orders_points_owe ON orders;
DROP TRIGGER orders_status_history ON orders;
DROP FUNCTION spaza__cancel_store_credit();
DROP FUNCTION spaza__order_lines_back();
DROP FUNCTION spaza__points_owe();
DROP FUNCTION spaza__order_status_changed();
CREATE TRIGGER orders_status_after AFTER UPDATE OF status ON orders
	FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION spaza__order_status_after();

ALTER FUNCTION spaza__rfm_step SET search_path = public, pg_temp;
ALTER FUNCTION spaza__rfm_order SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza__referral_pay SET search_path = public, pg_temp;
ALTER FUNCTION spaza__order_inserted SET search_path = public, pg_temp;
ALTER FUNCTION sms_order_notify SET search_path = public, pg_temp;
ALTER FUNCTION spaza__order_status_after SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE EXECUTE ON FUNCTION sms_order_notify, spaza__rfm_step, spaza__referral_pay, spaza__order_inserted, spaza__order_status_after
	FROM PUBLIC;
-- an order's insert runs its trigger as the runtime role, which writes SMS rows anyway
DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT EXECUTE ON FUNCTION sms_order_notify TO spaza_app;
	END IF;
END $$;

-- sql/021's test of a payment, in PL/pgSQL for the reason of sql/024: as a SQL function with its
-- own search_path it was parsed and planned at each of its calls, 0.03 ms each, and every
-- payment's money event and double-charge check call it two or three times.
CREATE OR REPLACE FUNCTION spaza__is_payment(p_reason text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE
SET search_path = public, pg_temp AS $$
BEGIN
	RETURN p_reason IN ('order_payment', 'voucher_redeem', 'credit_payment', 'slip_payment',
			    'store_credit_payment', 'cod_payment', 'points_payment');
END $$;
