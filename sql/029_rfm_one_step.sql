-- The incremental RFM step of a paid order in one statement.
--
-- sql/015's step added the order to the customer's row and then scored the row again with a
-- second UPDATE: two writes of the same row (two tuple versions, two index checks) inside
-- every payment's transaction, which holds the customer's connection. Scoring the merged values
-- in the upsert itself writes the row once. Leaving the paid family is rare (a cancellation, a
-- whole refund) and keeps its two steps.
CREATE OR REPLACE FUNCTION spaza__rfm_order() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	v_now boolean := NEW.status IN ('paid', 'shipped', 'delivered');
	v_was boolean := TG_OP = 'UPDATE' AND OLD.status IN ('paid', 'shipped', 'delivered');
	v_at timestamptz := coalesce(NEW.paid_at, now());
BEGIN
	IF v_now = v_was THEN
		RETURN NULL;
	END IF;
	IF v_now THEN
		INSERT INTO customer_rfm AS c (customer_id, first_paid_at, last_paid_at, orders_paid, spent_cents, r, f, m, segment)
		SELECT NEW.customer_id, v_at, v_at, 1, NEW.total_cents, s.r, s.f, s.m, s.segment
		FROM spaza__rfm_score(v_at, v_at, 1, NEW.total_cents, now()) s
		ON CONFLICT (customer_id) DO UPDATE SET (first_paid_at, last_paid_at, orders_paid, spent_cents, r, f, m,
							 segment, scored_at) =
			(SELECT least(c.first_paid_at, v_at), greatest(c.last_paid_at, v_at), c.orders_paid + 1,
				c.spent_cents + NEW.total_cents, s.r, s.f, s.m, s.segment, now()
			 FROM spaza__rfm_score(least(c.first_paid_at, v_at), greatest(c.last_paid_at, v_at),
					       c.orders_paid + 1, c.spent_cents + NEW.total_cents, now()) s);
		RETURN NULL;
	END IF;
	UPDATE customer_rfm SET orders_paid = orders_paid - 1, spent_cents = spent_cents - NEW.total_cents
	WHERE customer_id = NEW.customer_id AND orders_paid > 1;
	IF NOT FOUND THEN
		DELETE FROM customer_rfm WHERE customer_id = NEW.customer_id;
		RETURN NULL;
	END IF;
	UPDATE customer_rfm c SET (r, f, m, segment, scored_at) =
		(SELECT s.r, s.f, s.m, s.segment, now()
		 FROM spaza__rfm_score(c.first_paid_at, c.last_paid_at, c.orders_paid, c.spent_cents, now()) s)
	WHERE c.customer_id = NEW.customer_id;
	RETURN NULL;
END $$;
