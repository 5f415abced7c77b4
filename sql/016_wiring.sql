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
