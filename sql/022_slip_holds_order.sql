-- An order with an open payment slip waits for the slip's pay-by date before it expires.
--
-- A slip promises the customer a date (7 days, printed on it and sent by SMS) by which they may
-- pay it in cash at a till; the unpaid-order expiry (72 hours by default) would otherwise void it
-- days earlier and the retailer would refuse the cash. The cap on unpaid orders per customer
-- still bounds the stock one number can hold this way. Cash-on-delivery orders never expire
-- (016_wiring.sql).
CREATE OR REPLACE FUNCTION spaza_orders_expire(p_age interval, p_limit integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	v_id bigint;
	v_n integer := 0;
BEGIN
	FOR v_id IN SELECT o.id FROM orders o WHERE o.status = 'awaiting_payment' AND o.cod_at IS NULL
			AND o.created_at <= now() - p_age
			AND NOT EXISTS (SELECT 1 FROM slips s WHERE s.order_id = o.id AND s.status = 'open'
					AND s.expires_at > now())
			ORDER BY o.created_at LIMIT p_limit FOR UPDATE SKIP LOCKED LOOP
		PERFORM spaza__order_release(v_id);
		UPDATE orders o SET status = 'expired', expired_at = now(), updated_at = now() WHERE o.id = v_id;
		v_n := v_n + 1;
	END LOOP;
	RETURN v_n;
END $$;
ALTER FUNCTION spaza_orders_expire SECURITY DEFINER SET search_path = public, pg_temp;
