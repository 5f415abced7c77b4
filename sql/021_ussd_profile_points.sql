-- Spaza schema, step 21: the customer's side of the profile and loyalty on USSD (issue 13).
--   * the name asked once on USSD goes through spaza_customer_set() like `spazactl customer
--     set`, with its own source ('ussd') on the timeline; a skip is recorded (name_asked_at
--     with no name) so the question never comes again;
--   * loyalty points spent at checkout, alone or for part of an order (the rest by credit, a
--     slip or cash on delivery), like store credit (sql/012): 1 point = 1 cent (R1 = 100 points);
--   * a refund of a points payment gives the points back as points.
--
--   points_payment  loyalty_points(cust) +P  loyalty_issued -P   (the customer's points go, the promise with them)
--                   loyalty_redeemed     +A  sales          -A   (A = P cents: what the shop took in points)
--   refund of it    refunds +A  loyalty_redeemed -A  loyalty_points(cust) -P  loyalty_issued +P
--
-- Each pair balances within its own unit, so every transaction and the whole ledger still sum
-- to zero and spaza_loyalty_check() (points promised = points held) holds. orders.store_credit_cents
-- is from here on what was paid in advance of the rest, by store credit or points: every path
-- that asks what is still due (credit hold, slip, cash on delivery, the ledger check) reads it.

------------------------------------------------------------------------------------------
-- The name on USSD

-- spaza_customer_set (sql/018) with the source of the change: NULL is staff's (p_who), 'ussd'
-- the customer's own answer. The old six-argument form goes: a seventh with a default beside
-- it would make every six-argument call ambiguous.
DROP FUNCTION spaza_customer_set(bigint, text, text, boolean, jsonb, text);
CREATE FUNCTION spaza_customer_set(p_customer bigint, p_name text, p_channel text, p_consent boolean,
	p_fields jsonb, p_who text, p_source text DEFAULT NULL, OUT changed integer)
LANGUAGE plpgsql AS $$
DECLARE
	v_before bigint;
	f record;
BEGIN
	PERFORM set_config('spaza.profile_source', coalesce(p_source, 'staff ' || p_who), true);
	SELECT count(*) INTO v_before FROM customer_profile_events WHERE customer_id = p_customer;
	UPDATE customers SET
		name = CASE WHEN p_name IS NULL THEN name ELSE nullif(p_name, '') END,
		name_asked_at = CASE WHEN p_name IS NULL THEN name_asked_at ELSE coalesce(name_asked_at, now()) END,
		channel = coalesce(p_channel, channel),
		opt_out = CASE WHEN p_consent IS NULL THEN opt_out ELSE NOT p_consent END,
		opt_out_at = CASE WHEN p_consent IS NULL OR opt_out = NOT p_consent THEN opt_out_at ELSE now() END,
		opt_out_source = CASE WHEN p_consent IS NULL OR opt_out = NOT p_consent THEN opt_out_source ELSE 'staff' END
	WHERE id = p_customer;
	FOR f IN SELECT key, value FROM jsonb_each_text(coalesce(p_fields, '{}'::jsonb)) LOOP
		IF f.value = '' THEN
			DELETE FROM customer_fields WHERE customer_id = p_customer AND key = f.key;
		ELSE
			INSERT INTO customer_fields (customer_id, key, value) VALUES (p_customer, f.key, f.value)
				ON CONFLICT (customer_id, key) DO UPDATE SET value = EXCLUDED.value;
		END IF;
	END LOOP;
	SELECT count(*) - v_before INTO changed FROM customer_profile_events WHERE customer_id = p_customer;
	PERFORM set_config('spaza.profile_source', '', true);
END $$;

-- The customer's answer on USSD: a name, or '' for "skip" (recorded, never asked again). A
-- customer who already has a name or skipped keeps it: the question came twice (two phones,
-- a replayed hop) and the first answer stands. Returns the name kept ('' none).
CREATE FUNCTION spaza_customer_name_ussd(p_customer bigint, p_name text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM customers c WHERE c.id = p_customer AND c.name_asked_at IS NULL AND c.name IS NULL) THEN
		PERFORM spaza_customer_set(p_customer, btrim(p_name), NULL, NULL, NULL, NULL, 'ussd');
	END IF;
	RETURN (SELECT coalesce(c.name, '') FROM customers c WHERE c.id = p_customer);
END $$;

------------------------------------------------------------------------------------------
-- Points at checkout

ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check CHECK (kind IN ('customer_credit',
	'voucher_float', 'retailer_clearing', 'sales', 'refunds', 'store_credit', 'loyalty_points', 'loyalty_issued',
	'loyalty_redeemed'));
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_check
	CHECK (CASE kind WHEN 'sales' THEN owner_id IS NULL WHEN 'refunds' THEN owner_id IS NULL
			 WHEN 'loyalty_issued' THEN owner_id IS NULL WHEN 'loyalty_redeemed' THEN owner_id IS NULL
			 WHEN 'retailer_clearing' THEN true ELSE owner_id IS NOT NULL END);
INSERT INTO ledger_accounts (kind, owner_id) VALUES ('loyalty_redeemed', NULL);
ALTER TABLE ledger_txns DROP CONSTRAINT ledger_txns_reason_check;
ALTER TABLE ledger_txns ADD CONSTRAINT ledger_txns_reason_check CHECK (reason IN ('order_payment', 'voucher_sale',
	'voucher_redeem', 'credit_payment', 'credit_repayment', 'slip_payment', 'reversal', 'refund',
	'store_credit_payment', 'cod_payment', 'loyalty_earn', 'loyalty_reverse', 'loyalty_expire', 'loyalty_referral',
	'points_payment'));
ALTER TABLE orders DROP CONSTRAINT orders_payment_method_check;
ALTER TABLE orders ADD CONSTRAINT orders_payment_method_check
	CHECK (payment_method IN ('voucher', 'credit', 'slip', 'store_credit', 'cod', 'points'));
ALTER TABLE refunds DROP CONSTRAINT refunds_refund_to_check;
ALTER TABLE refunds ADD CONSTRAINT refunds_refund_to_check CHECK (refund_to IN ('voucher', 'new_voucher', 'credit',
	'store_credit', 'credit_and_store_credit', 'points'));

-- Of what was paid in advance (store_credit_cents), how much in points: an order's detail names
-- the mix ("points+slip") from it without reading the ledger.
ALTER TABLE orders ADD COLUMN points_cents bigint NOT NULL DEFAULT 0 CHECK (points_cents >= 0),
	ADD CONSTRAINT orders_points_within_prepaid CHECK (points_cents <= store_credit_cents);

-- A points payment is a payment: refunds, the double-charge detector, money events, reports
-- and the ledger check count it like the others.
CREATE OR REPLACE FUNCTION spaza__is_payment(p_reason text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
	SELECT p_reason IN ('order_payment', 'voucher_redeem', 'credit_payment', 'slip_payment',
			    'store_credit_payment', 'cod_payment', 'points_payment');
$$;

-- Spend the customer's points on an order: all that is due, or as many as there are. The
-- outcomes and the retry by key are spaza_store_credit_pay's (sql/012); points says how many
-- points went (as many as amount_cents, at 1 cent a point).
-- outcome: paid | partial (balance_cents still due) | insufficient (no points) | not_payable | conflict
CREATE FUNCTION spaza_points_pay(p_idem_key text, p_customer_id bigint, p_order_id bigint,
				 OUT outcome text, OUT amount_cents bigint, OUT balance_cents bigint, OUT points bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_hash bytea := spaza__hash('points_pay', p_customer_id::text, p_order_id::text);
	v_txn ledger_txns%ROWTYPE;
	v_order orders%ROWTYPE;
	v_have bigint;
	v_due bigint;
	v_spend bigint;
BEGIN
	amount_cents := 0;
	balance_cents := 0;
	points := 0;
	PERFORM spaza__lock_key(p_idem_key);
	SELECT * INTO v_txn FROM ledger_txns t WHERE t.idem_key = p_idem_key;
	IF FOUND THEN
		IF v_txn.content_hash <> v_hash THEN
			outcome := 'conflict';
		ELSE
			outcome := v_txn.result->>'outcome';
			amount_cents := (v_txn.result->>'amount_cents')::bigint;
			balance_cents := (v_txn.result->>'balance_cents')::bigint;
			points := amount_cents;
		END IF;
		RETURN;
	END IF;
	-- the customer's row serialises spending their points (and the expiry's lock is theirs too)
	PERFORM 1 FROM customers c WHERE c.id = p_customer_id FOR NO KEY UPDATE;
	PERFORM pg_advisory_xact_lock(hashtext('loyalty:' || p_customer_id));
	SELECT * INTO v_order FROM orders o WHERE o.id = p_order_id FOR UPDATE;
	IF NOT FOUND OR v_order.customer_id <> p_customer_id OR v_order.status <> 'awaiting_payment' THEN
		outcome := 'not_payable';
		RETURN;
	END IF;
	v_due := v_order.total_cents - v_order.store_credit_cents;
	v_have := spaza__points(p_customer_id);
	balance_cents := v_due;
	IF v_have <= 0 THEN
		outcome := 'insufficient';
		RETURN;
	END IF;
	v_spend := least(v_have, v_due);
	amount_cents := v_spend;
	points := v_spend;
	balance_cents := v_due - v_spend;
	outcome := CASE WHEN balance_cents = 0 THEN 'paid' ELSE 'partial' END;
	PERFORM spaza__post(p_idem_key, 'points_payment', p_order_id, v_hash,
			    jsonb_build_object('outcome', outcome, 'amount_cents', amount_cents, 'balance_cents', balance_cents,
					       'points', -v_spend, 'customer', p_customer_id, 'order', p_order_id),
			    ARRAY[spaza__account('loyalty_points', p_customer_id), spaza__account('loyalty_issued', NULL),
				  spaza__account('loyalty_redeemed', NULL), spaza__account('sales', NULL)],
			    ARRAY[v_spend, -v_spend, v_spend, -v_spend]);
	UPDATE orders o SET store_credit_cents = o.store_credit_cents + v_spend, points_cents = o.points_cents + v_spend,
		updated_at = now() WHERE o.id = p_order_id;
	IF outcome = 'paid' THEN
		PERFORM spaza__order_settle(p_order_id, 'points', NULL, NULL);
	END IF;
END $$;

-- spaza_refund (sql/012) with one more way back: a points payment is refunded as points.
CREATE OR REPLACE FUNCTION spaza_refund(p_idem_key text, p_order_id bigint, p_amount_cents bigint, p_to text, p_reason text,
			     p_duplicate_txn bigint DEFAULT NULL, p_pin_hmac bytea DEFAULT NULL, p_last4 text DEFAULT NULL,
			     p_key_version integer DEFAULT NULL, OUT outcome text, OUT refund_cents bigint, OUT refund_to text, OUT voucher_id bigint,
			     OUT customer_id bigint, OUT voucher_last4 text)
LANGUAGE plpgsql AS $$
DECLARE
	-- not the new voucher's PIN: a retry comes with another one, and gets the first answer
	v_hash bytea := spaza__hash('refund', p_order_id::text, p_amount_cents::text, p_to, p_reason,
				    p_duplicate_txn::text);
	v_req refund_requests%ROWTYPE;
	v_order orders%ROWTYPE;
	v_left bigint;
	v_refundable bigint := 0;
	v_part bigint;
	v_to text;
	v_voucher vouchers%ROWTYPE;
	v_used bigint;
	v_held bigint;
	v_to_credit bigint;
	v_accounts bigint[];
	v_amounts bigint[];
	v_txn bigint;
	r record;
BEGIN
	refund_cents := 0;
	PERFORM spaza__lock_key(p_idem_key);
	SELECT * INTO v_req FROM refund_requests q WHERE q.idem_key = p_idem_key;
	IF FOUND THEN
		IF v_req.content_hash <> v_hash THEN
			outcome := 'conflict';
		ELSE
			outcome := v_req.result->>'outcome';
			refund_cents := (v_req.result->>'refund_cents')::bigint;
			refund_to := v_req.result->>'refund_to';
			voucher_id := (v_req.result->>'voucher_id')::bigint;
			customer_id := (v_req.result->>'customer_id')::bigint;
			voucher_last4 := v_req.result->>'voucher_last4';
		END IF;
		RETURN;
	END IF;
	SELECT * INTO v_order FROM orders o WHERE o.id = p_order_id FOR UPDATE;
	IF NOT FOUND THEN
		outcome := 'not_found';
		RETURN;
	END IF;
	customer_id := v_order.customer_id;

	IF p_duplicate_txn IS NOT NULL AND NOT EXISTS (SELECT 1 FROM spaza__refundable(p_order_id, p_duplicate_txn)) THEN
		outcome := CASE WHEN EXISTS (SELECT 1 FROM ledger_txns t WHERE t.id = p_duplicate_txn
					     AND t.order_id = p_order_id AND spaza__is_payment(t.reason))
			   THEN 'nothing' ELSE 'not_found' END;
		RETURN;
	END IF;
	SELECT coalesce(sum(p.left_cents), 0) INTO v_refundable FROM spaza__refundable(p_order_id, p_duplicate_txn) p;
	IF v_refundable = 0 THEN
		outcome := 'nothing';
		RETURN;
	END IF;
	v_left := coalesce(p_amount_cents, v_refundable);
	IF v_left > v_refundable OR v_left <= 0 THEN
		outcome := 'too_much';
		refund_cents := v_refundable;
		RETURN;
	END IF;
	IF p_to = 'voucher' AND (p_pin_hmac IS NULL OR p_last4 IS NULL)
	   AND EXISTS (SELECT 1 FROM spaza__refundable(p_order_id, p_duplicate_txn) p WHERE p.reason IN ('slip_payment', 'cod_payment', 'order_payment')) THEN
		outcome := 'needs_pin';
		RETURN;
	END IF;

	FOR r IN SELECT * FROM spaza__refundable(p_order_id, p_duplicate_txn) p ORDER BY p.txn_id DESC LOOP
		EXIT WHEN v_left = 0;
		v_part := least(v_left, r.left_cents);
		v_left := v_left - v_part;
		v_to := NULL;
		v_voucher := NULL;
		v_accounts := ARRAY[spaza__account('refunds', NULL)];
		v_amounts := ARRAY[v_part];
		IF r.reason = 'points_payment' THEN
			-- points go back as points, whatever p_to asks (1 point = 1 cent: exact for any part)
			v_to := 'points';
			v_accounts := v_accounts || spaza__account('loyalty_redeemed', NULL)
				|| spaza__account('loyalty_points', v_order.customer_id) || spaza__account('loyalty_issued', NULL);
			v_amounts := v_amounts || -v_part || -v_part || v_part;
		ELSIF p_to = 'store_credit' OR r.reason = 'store_credit_payment' THEN
			v_to := 'store_credit';
		ELSIF r.reason = 'voucher_redeem' THEN
			SELECT * INTO v_voucher FROM vouchers v WHERE v.id = (r.result->>'voucher_id')::bigint FOR UPDATE;
			IF FOUND AND v_voucher.expires_at > now() AND v_voucher.status <> 'voided' THEN
				v_to := 'voucher';
				UPDATE vouchers v SET remaining_cents = v.remaining_cents + v_part, status = 'active'
					WHERE v.id = v_voucher.id;
				v_accounts := v_accounts || spaza__account('voucher_float', v_voucher.id);
				v_amounts := v_amounts || -v_part;
			END IF;
		ELSIF r.reason = 'credit_payment' THEN
			-- What the customer still owes goes down; a part already repaid becomes store credit.
			SELECT c.used_cents INTO v_used FROM credit_lines c WHERE c.customer_id = v_order.customer_id FOR UPDATE;
			SELECT coalesce(sum(h.amount_cents), 0) INTO v_held
				FROM holds h WHERE h.customer_id = v_order.customer_id AND h.status = 'pending';
			v_to_credit := greatest(least(v_part, coalesce(v_used, 0) - v_held), 0);
			IF v_to_credit > 0 THEN
				UPDATE credit_lines c SET used_cents = c.used_cents - v_to_credit, updated_at = now()
					WHERE c.customer_id = v_order.customer_id;
				v_accounts := v_accounts || spaza__account('customer_credit', v_order.customer_id);
				v_amounts := v_amounts || -v_to_credit;
			END IF;
			IF v_to_credit < v_part THEN
				v_accounts := v_accounts || spaza__account('store_credit', v_order.customer_id);
				v_amounts := v_amounts || (v_to_credit - v_part);
			END IF;
			v_to := CASE v_to_credit WHEN v_part THEN 'credit' WHEN 0 THEN 'store_credit'
				ELSE 'credit_and_store_credit' END;
		ELSIF p_to = 'voucher' AND voucher_id IS NULL THEN
			-- cash back as a new voucher (one per request: a second cash part goes to store credit) worth the refund (its PIN goes to the customer by SMS)
			INSERT INTO vouchers (pin_hmac, last4, value_cents, remaining_cents, key_version)
				VALUES (p_pin_hmac, p_last4, v_part, v_part, coalesce(p_key_version, 1))
				RETURNING * INTO v_voucher;
			v_to := 'new_voucher';
			v_accounts := v_accounts || spaza__account('voucher_float', v_voucher.id);
			v_amounts := v_amounts || -v_part;
		END IF;
		IF v_to IS NULL OR v_to = 'store_credit' THEN	-- cash, store credit, a voucher that cannot take it back
			v_to := 'store_credit';
			v_voucher := NULL;
			v_accounts := ARRAY[spaza__account('refunds', NULL), spaza__account('store_credit', v_order.customer_id)];
			v_amounts := ARRAY[v_part, -v_part];
		END IF;
		v_txn := spaza__post(p_idem_key || ':' || r.txn_id, 'refund', p_order_id,
				     spaza__hash('refund_part', r.txn_id::text, v_part::text, v_to),
				     jsonb_build_object('outcome', 'refunded', 'refund_cents', v_part, 'refund_to', v_to,
							'voucher_id', v_voucher.id, 'payment_txn', r.txn_id),
				     v_accounts, v_amounts);
		INSERT INTO refunds (request_key, order_id, customer_id, payment_txn_id, txn_id, amount_cents, refund_to,
				     voucher_id, duplicate, reason)
			VALUES (p_idem_key, p_order_id, v_order.customer_id, r.txn_id, v_txn, v_part, v_to, v_voucher.id,
				p_duplicate_txn IS NOT NULL, p_reason);
		refund_cents := refund_cents + v_part;
		-- one word for the customer: where most of it went (the last, when several)
		refund_to := CASE WHEN refund_to IS NULL OR refund_to = v_to THEN v_to ELSE 'several' END;
		voucher_id := coalesce(v_voucher.id, voucher_id);
		voucher_last4 := coalesce(v_voucher.last4, voucher_last4);
	END LOOP;
	outcome := 'refunded';
	INSERT INTO refund_requests (idem_key, content_hash, result)
		VALUES (p_idem_key, v_hash, jsonb_build_object('outcome', outcome, 'refund_cents', refund_cents,
			'refund_to', refund_to, 'voucher_id', voucher_id, 'customer_id', customer_id,
			'voucher_last4', voucher_last4));
END $$;


-- spaza__money_event (sql/012) naming a points payment.
CREATE OR REPLACE FUNCTION spaza__money_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	v_customer bigint;
	v_amount bigint;
	v_summary text;
	v_kind text;
BEGIN
	IF NEW.order_id IS NOT NULL THEN
		SELECT o.customer_id INTO v_customer FROM orders o WHERE o.id = NEW.order_id;
	ELSE
		SELECT a.owner_id INTO v_customer FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
			WHERE e.txn_id = NEW.id AND a.kind IN ('customer_credit', 'store_credit') LIMIT 1;
	END IF;
	IF v_customer IS NULL THEN
		RETURN NULL;	-- a voucher sold at the counter: nobody's yet
	END IF;
	IF spaza__is_payment(NEW.reason) THEN
		v_kind := 'payment';
		v_amount := spaza__txn_sales(NEW.id);
		v_summary := format('paid %s for order #%s by %s', spaza__rand(v_amount), NEW.order_id,
			CASE NEW.reason WHEN 'voucher_redeem' THEN 'voucher' WHEN 'credit_payment' THEN 'credit'
				WHEN 'slip_payment' THEN 'slip at a till' WHEN 'store_credit_payment' THEN 'store credit'
				WHEN 'cod_payment' THEN 'cash on delivery'
				WHEN 'points_payment' THEN 'loyalty points' ELSE 'other' END);
		PERFORM spaza__dc_note(NEW.order_id);
	ELSIF NEW.reason = 'refund' THEN
		v_kind := 'refund';
		SELECT sum(e.amount_cents) INTO v_amount FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
			WHERE e.txn_id = NEW.id AND a.kind = 'refunds';
		v_summary := format('refund %s for order #%s to %s', spaza__rand(v_amount), NEW.order_id,
			replace(coalesce(NEW.result->>'refund_to', 'store_credit'), '_', ' '));
	ELSIF NEW.reason = 'reversal' THEN
		v_kind := 'reversal';
		v_amount := -spaza__txn_sales(NEW.id);
		v_summary := format('till payment of %s for order #%s reversed', spaza__rand(v_amount), NEW.order_id);
	ELSIF NEW.reason = 'credit_repayment' THEN
		v_kind := 'repayment';
		SELECT -sum(e.amount_cents) INTO v_amount FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
			WHERE e.txn_id = NEW.id AND a.kind = 'customer_credit';
		v_summary := format('repaid %s of credit', spaza__rand(v_amount));
	ELSE
		RETURN NULL;
	END IF;
	INSERT INTO money_events (customer_id, at, kind, ref, summary, txn_id)
		VALUES (v_customer, NEW.created_at, v_kind, coalesce(NEW.order_id::text, NEW.id::text), v_summary, NEW.id)
		ON CONFLICT (txn_id) DO NOTHING;
	RETURN NULL;
END $$;

ALTER FUNCTION spaza_customer_set SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_customer_name_ussd SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza__is_payment SET search_path = public, pg_temp;
ALTER FUNCTION spaza_points_pay SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_refund SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza__money_event SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE ALL ON FUNCTION spaza_customer_set, spaza_customer_name_ussd, spaza_points_pay FROM PUBLIC;
DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT EXECUTE ON FUNCTION spaza_customer_set, spaza_customer_name_ussd, spaza_points_pay TO spaza_app;
	END IF;
END $$;
