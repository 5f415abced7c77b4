-- Wiring the parallel branches of issue 11 together (wave 2): the merged timeline, the charged-twice
-- ticket and the double-charge detector, voucher for the rest after store credit, cash on delivery
-- against the unpaid-order expiry.

------------------------------------------------------------------------------------------
-- The merged timeline: money's timeline_money (payments, refunds, repayments) and orders'
-- timeline_orders (placed, every status change) join care's branches. timeline_orders has the
-- order being placed (from_status NULL), so care's timeline_order_placed goes: one line each.
-- Each branch is still its own index-ordered LIMIT (money_events_by_customer,
-- order_status_history_by_customer).
CREATE OR REPLACE FUNCTION spaza_customer_timeline(p_customer bigint, p_before timestamptz, p_lim integer)
RETURNS TABLE (at timestamptz, kind text, ref text, summary text)
LANGUAGE sql STABLE AS $$
	SELECT t.at, t.kind, t.ref, t.summary FROM (
		(SELECT v.at, v.kind, v.ref, v.summary FROM timeline_sessions v
		 WHERE v.customer_id = p_customer AND v.at < coalesce(p_before, 'infinity') ORDER BY v.at DESC LIMIT p_lim)
		UNION ALL
		(SELECT v.at, v.kind, v.ref, v.summary FROM timeline_sms v
		 WHERE v.customer_id = p_customer AND v.at < coalesce(p_before, 'infinity') ORDER BY v.at DESC LIMIT p_lim)
		UNION ALL
		(SELECT v.at, v.kind, v.ref, v.summary FROM timeline_orders v
		 WHERE v.customer_id = p_customer AND v.at < coalesce(p_before, 'infinity') ORDER BY v.at DESC LIMIT p_lim)
		UNION ALL
		(SELECT v.at, v.kind, v.ref, v.summary FROM timeline_money v
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
ALTER FUNCTION spaza_customer_timeline SECURITY DEFINER SET search_path = public, pg_temp;
DROP VIEW timeline_order_placed;

------------------------------------------------------------------------------------------
-- A "charged twice" ticket runs the double-charge detector for its customer at once (spazad
-- after the USSD ticket opens, spazactl care open): spaza_dc_scan() finds what there is,
-- spaza_dc_refund() refunds each confirmed double charge once through the ledger (key
-- spaza:dc:<duplicate payment>), and the ticket gets the finding: resolved with the evidence
-- when every double charge found is confirmed and refunded, else left open for a person with
-- the finding as a note ("no double charge found", or what needs a person's eye).
-- One row per double charge refunded by this call (the caller tells the customer by SMS,
-- keyed as spazactl's sweep keys it, so once), or one row with no order when none was:
--   state  resolved | open (the ticket's state after the check); not_found (no such
--          charged-twice ticket); or the ticket's state when it was resolved or closed already
CREATE FUNCTION spaza_dc_ticket(p_ticket bigint)
RETURNS TABLE (state text, note text, customer_id bigint, lang text, order_id bigint, dup_txn_id bigint,
	       amount_cents bigint, refund_to text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_t care_tickets%ROWTYPE;
	v_dc record;
	v_r record;
	v_lines text[] := '{}';
	v_confirmed integer := 0;
	v_person integer := 0;
	v_orders bigint[] := '{}';
	v_dups bigint[] := '{}';
	v_amounts bigint[] := '{}';
	v_tos text[] := '{}';
BEGIN
	SELECT * INTO v_t FROM care_tickets t WHERE t.id = p_ticket FOR UPDATE;
	IF NOT FOUND OR v_t.kind <> 'charged_twice' THEN
		state := 'not_found';
		RETURN NEXT;
		RETURN;
	END IF;
	customer_id := v_t.customer_id;
	SELECT c.lang INTO lang FROM customers c WHERE c.id = v_t.customer_id;
	IF v_t.state NOT IN ('open', 'waiting') THEN
		state := v_t.state;
		RETURN NEXT;
		RETURN;
	END IF;
	FOR v_dc IN SELECT d.id, d.kind, d.status, d.order_id, d.dup_txn_id, d.amount_cents
			FROM spaza_dc_scan(v_t.customer_id, NULL) d ORDER BY d.id LOOP
		IF v_dc.kind = 'same_amount_two_methods' THEN
			v_person := v_person + 1;
			v_lines := v_lines || format('order #%s: %s paid by another method within 10 minutes of another order (payment %s), for a person',
				v_dc.order_id, spaza__rand(v_dc.amount_cents), v_dc.dup_txn_id);
			CONTINUE;
		END IF;
		v_confirmed := v_confirmed + 1;
		IF v_dc.status = 'refunded' THEN
			v_lines := v_lines || format('order #%s paid twice (payment %s): %s refunded before',
				v_dc.order_id, v_dc.dup_txn_id, spaza__rand(v_dc.amount_cents));
			CONTINUE;
		END IF;
		SELECT r.outcome, r.refund_cents, r.refund_to INTO v_r FROM spaza_dc_refund(v_dc.id) r;
		IF v_r.outcome = 'refunded' THEN
			v_lines := v_lines || format('order #%s paid twice (payment %s): %s refunded to %s',
				v_dc.order_id, v_dc.dup_txn_id, spaza__rand(v_r.refund_cents), replace(v_r.refund_to, '_', ' '));
			v_orders := v_orders || v_dc.order_id;
			v_dups := v_dups || v_dc.dup_txn_id;
			v_amounts := v_amounts || v_r.refund_cents;
			v_tos := v_tos || v_r.refund_to;
		ELSE
			v_person := v_person + 1;
			v_lines := v_lines || format('order #%s paid twice (payment %s): the refund was refused (%s), for a person',
				v_dc.order_id, v_dc.dup_txn_id, v_r.outcome);
		END IF;
	END LOOP;
	note := 'double-charge check: ' || CASE WHEN cardinality(v_lines) = 0 THEN 'no double charge found'
		ELSE array_to_string(v_lines, '; ') END;
	IF v_confirmed > 0 AND v_person = 0 THEN
		PERFORM spaza_care_set_state(p_ticket, 'resolved', note, 'double-charge check');
		state := 'resolved';
	ELSE
		INSERT INTO care_messages (ticket_id, customer_id, direction, step, text, author)
			VALUES (p_ticket, v_t.customer_id, 'step', 'message', note, 'double-charge check');
		state := 'open';
	END IF;
	IF cardinality(v_orders) = 0 THEN
		RETURN NEXT;
		RETURN;
	END IF;
	FOR i IN 1 .. cardinality(v_orders) LOOP
		order_id := v_orders[i];
		dup_txn_id := v_dups[i];
		amount_cents := v_amounts[i];
		refund_to := v_tos[i];
		RETURN NEXT;
	END LOOP;
END $$;
ALTER FUNCTION spaza_dc_ticket SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE ALL ON FUNCTION spaza_dc_ticket FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spaza_dc_ticket TO spaza_app;

------------------------------------------------------------------------------------------
-- Store credit, then a voucher for the rest: a voucher pays what is still due (total less the
-- store credit already spent on the order), as a credit line and a slip already do, so money's
-- guard that refused a voucher on such an order (spaza__voucher_split_guard) goes.
-- spaza_voucher_redeem_v (sql/008) hands its work to this function. Otherwise as sql/002.
DROP TRIGGER ledger_txns_voucher_split_guard ON ledger_txns;
DROP FUNCTION spaza__voucher_split_guard();
CREATE OR REPLACE FUNCTION spaza_voucher_redeem(p_idem_key text, p_pin_hmac bytea, p_customer_id bigint, p_order_id bigint,
				     OUT outcome text, OUT paid_cents bigint, OUT remaining_cents bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_hash bytea := spaza__hash('voucher_redeem', encode(p_pin_hmac, 'hex'), p_customer_id::text, p_order_id::text);
	v_txn ledger_txns%ROWTYPE;
	v_fail voucher_failures%ROWTYPE;
	v_order orders%ROWTYPE;
	v_voucher vouchers%ROWTYPE;
	v_total bigint;
BEGIN
	paid_cents := 0;
	remaining_cents := 0;
	PERFORM spaza__lock_key(p_idem_key);
	SELECT * INTO v_txn FROM ledger_txns t WHERE t.idem_key = p_idem_key;
	IF FOUND THEN
		IF v_txn.content_hash <> v_hash THEN
			outcome := 'conflict';
		ELSE
			outcome := v_txn.result->>'outcome';
			paid_cents := (v_txn.result->>'paid_cents')::bigint;
			remaining_cents := (v_txn.result->>'remaining_cents')::bigint;
		END IF;
		RETURN;
	END IF;
	SELECT * INTO v_fail FROM voucher_failures f WHERE f.idem_key = p_idem_key;
	IF FOUND THEN
		outcome := CASE WHEN v_fail.request_hash = v_hash THEN v_fail.outcome ELSE 'conflict' END;
		RETURN;
	END IF;

	-- The customer's row lock serialises this customer's attempts, so concurrent wrong PINs
	-- cannot slip past the lockout count together.
	PERFORM 1 FROM customers c WHERE c.id = p_customer_id FOR NO KEY UPDATE;
	IF NOT FOUND THEN
		outcome := 'not_payable';
		RETURN;
	END IF;
	IF spaza__voucher_locked(p_customer_id) THEN
		outcome := 'locked';
		RETURN;
	END IF;

	SELECT * INTO v_order FROM orders o WHERE o.id = p_order_id FOR UPDATE;
	IF NOT FOUND OR v_order.customer_id <> p_customer_id OR v_order.status <> 'awaiting_payment' THEN
		outcome := 'not_payable';
		RETURN;
	END IF;
	v_total := v_order.total_cents - v_order.store_credit_cents;	-- what store credit left due

	SELECT * INTO v_voucher FROM vouchers v WHERE v.pin_hmac = p_pin_hmac FOR UPDATE;
	IF NOT FOUND OR v_voucher.status = 'voided' THEN
		INSERT INTO voucher_failures (customer_id, idem_key, request_hash, outcome)
			VALUES (p_customer_id, p_idem_key, v_hash, 'invalid');
		outcome := 'invalid';
		RETURN;
	END IF;
	remaining_cents := v_voucher.remaining_cents;
	IF v_voucher.expires_at <= now() THEN
		outcome := 'expired';
		RETURN;
	END IF;
	IF v_voucher.remaining_cents < v_total THEN
		outcome := 'insufficient';
		RETURN;
	END IF;

	outcome := 'paid';
	paid_cents := v_total;
	remaining_cents := v_voucher.remaining_cents - v_total;
	UPDATE vouchers v SET remaining_cents = v.remaining_cents - v_total,
		status = CASE WHEN v.remaining_cents = v_total THEN 'redeemed' ELSE 'active' END
		WHERE v.id = v_voucher.id;
	PERFORM spaza__post(p_idem_key, 'voucher_redeem', p_order_id, v_hash,
			    jsonb_build_object('outcome', outcome, 'paid_cents', paid_cents,
					       'remaining_cents', remaining_cents, 'voucher_id', v_voucher.id),
			    ARRAY[spaza__account('voucher_float', v_voucher.id), spaza__account('sales', NULL)],
			    ARRAY[v_total, -v_total]);
	PERFORM spaza__order_settle(p_order_id, 'voucher', NULL, NULL);
END $$;
ALTER FUNCTION spaza_voucher_redeem SECURITY DEFINER SET search_path = public, pg_temp;

------------------------------------------------------------------------------------------
-- Cash on delivery against the unpaid-order expiry: an order the customer chose to pay cash on
-- delivery (orders.cod_at, spaza_cod_choose) stays awaiting_payment until the courier or a
-- retailer confirms the cash; it is on its way, not forgotten, so the sweep leaves it alone.
-- It still counts towards the cap on open unpaid orders (spaza_basket_checkout's count): it
-- holds stock as any unpaid order does, and never expiring, it must not let one number hold
-- stock without end. Otherwise as sql/013.
CREATE OR REPLACE FUNCTION spaza_orders_expire(p_age interval, p_limit integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	v_id bigint;
	v_n integer := 0;
BEGIN
	FOR v_id IN SELECT o.id FROM orders o WHERE o.status = 'awaiting_payment' AND o.cod_at IS NULL
			AND o.created_at <= now() - p_age
			ORDER BY o.created_at LIMIT p_limit FOR UPDATE SKIP LOCKED LOOP
		PERFORM spaza__order_release(v_id);
		UPDATE orders o SET status = 'expired', expired_at = now(), updated_at = now() WHERE o.id = v_id;
		v_n := v_n + 1;
	END LOOP;
	RETURN v_n;
END $$;
ALTER FUNCTION spaza_orders_expire SECURITY DEFINER SET search_path = public, pg_temp;
