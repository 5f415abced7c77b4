-- Spaza schema, step 12: looking after the money of the people who pay (issue 11).
--   * refunds, partial or whole, each pointing at the payment it returns, to where that money
--     came from (a voucher, the credit line, store credit; a cash payment to store credit or a
--     new voucher, the customer's choice);
--   * store credit that can be spent, alone or for part of an order (the rest by credit line or
--     slip: what is still due is total_cents - store_credit_cents);
--   * cash on delivery, settled when a courier or a retailer confirms the cash;
--   * the double-charge detector: a deferred trigger notes every payment that finds its order
--     already paid, the sweep refunds them once;
--   * the money events of the customer's timeline (timeline_money).
-- Every movement stays one spaza__post() with an idempotency key under ledger_txns' unique index.
--
--   store_credit_payment  store_credit(cust)        +A   sales -A
--   cod_payment           retailer_clearing(ret|NULL) +A sales -A   (NULL: the shop's own courier)
--   refund                refunds +A   voucher_float | customer_credit | store_credit -A

ALTER TABLE ledger_txns DROP CONSTRAINT ledger_txns_reason_check;
ALTER TABLE ledger_txns ADD CONSTRAINT ledger_txns_reason_check CHECK (reason IN ('order_payment', 'voucher_sale',
	'voucher_redeem', 'credit_payment', 'credit_repayment', 'slip_payment', 'reversal', 'refund',
	'store_credit_payment', 'cod_payment'));
ALTER TABLE orders DROP CONSTRAINT orders_payment_method_check;
ALTER TABLE orders ADD CONSTRAINT orders_payment_method_check
	CHECK (payment_method IN ('voucher', 'credit', 'slip', 'store_credit', 'cod'));
-- Store credit already spent on the order (what is still due is total_cents minus this), and
-- when the customer chose to pay cash on delivery.
ALTER TABLE orders
	ADD COLUMN store_credit_cents bigint NOT NULL DEFAULT 0 CHECK (store_credit_cents >= 0),
	ADD COLUMN cod_at timestamptz,
	ADD CONSTRAINT orders_store_credit_within_total CHECK (store_credit_cents <= total_cents);

-- The ledger's payment reasons, in one place for the functions and the check below.
CREATE FUNCTION spaza__is_payment(p_reason text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
	SELECT p_reason IN ('order_payment', 'voucher_redeem', 'credit_payment', 'slip_payment',
			    'store_credit_payment', 'cod_payment');
$$;

-- What a ledger transaction moved through sales (a payment's amount), and what of a payment a
-- till took back (a reversed slip payment).
CREATE FUNCTION spaza__txn_sales(p_txn bigint) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT coalesce(-sum(e.amount_cents), 0) FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
	WHERE e.txn_id = p_txn AND a.kind = 'sales';
$$;
CREATE FUNCTION spaza__txn_reversed(p_txn bigint) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT coalesce(sum(p.amount_cents), 0) FROM till_payments p WHERE p.ledger_txn_id = p_txn AND p.status = 'reversed';
$$;

-- One row per refund of one payment. A refund request (spaza_refund) may return several
-- payments of an order (store credit and credit for one order): one row, one posting each.
CREATE TABLE refunds (
	id             bigserial PRIMARY KEY,
	request_key    text NOT NULL,
	order_id       bigint NOT NULL REFERENCES orders(id),
	customer_id    bigint NOT NULL REFERENCES customers(id),
	payment_txn_id bigint NOT NULL REFERENCES ledger_txns(id),	-- the payment it returns
	txn_id         bigint NOT NULL UNIQUE REFERENCES ledger_txns(id),	-- its own posting
	amount_cents   bigint NOT NULL CHECK (amount_cents > 0),
	refund_to      text NOT NULL CHECK (refund_to IN ('voucher', 'new_voucher', 'credit', 'store_credit',
							  'credit_and_store_credit')),
	voucher_id     bigint REFERENCES vouchers(id),
	-- a duplicate payment's refund (the double-charge detector): the order stays paid once
	duplicate      boolean NOT NULL DEFAULT false,
	reason         text NOT NULL CHECK (reason ~ '^[^[:cntrl:]]{1,200}$'),
	created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_by_payment ON refunds (payment_txn_id);
CREATE INDEX refunds_by_order ON refunds (order_id);
CREATE INDEX refunds_by_customer ON refunds (customer_id, created_at);
-- A duplicate payment is refunded as a duplicate once, whoever asks.
CREATE UNIQUE INDEX refunds_one_per_duplicate ON refunds (payment_txn_id) WHERE duplicate;

-- The request itself: its key, what it asked (the same key with other content is a conflict)
-- and its first answer, handed back to retries.
CREATE TABLE refund_requests (
	idem_key     text PRIMARY KEY,
	content_hash bytea NOT NULL,
	result       jsonb NOT NULL,
	created_at   timestamptz NOT NULL DEFAULT now()
);

-- Store credit: the shop owes the customer -sum(store_credit entries).
CREATE FUNCTION spaza__store_credit(p_customer_id bigint) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT coalesce(-sum(e.amount_cents), 0) FROM ledger_accounts a JOIN ledger_entries e ON e.account_id = a.id
	WHERE a.kind = 'store_credit' AND a.owner_id = p_customer_id;
$$;

-- What each payment of an order (or just p_only) still holds: paid, less what a till
-- reversed, less refunds so far; payments with nothing left are left out.
CREATE FUNCTION spaza__refundable(p_order_id bigint, p_only bigint)
RETURNS TABLE (txn_id bigint, reason text, result jsonb, left_cents bigint) LANGUAGE sql STABLE AS $$
	SELECT * FROM (
		SELECT t.id, t.reason, t.result, spaza__txn_sales(t.id) - spaza__txn_reversed(t.id)
			- coalesce((SELECT sum(f.amount_cents) FROM refunds f WHERE f.payment_txn_id = t.id), 0) AS left_cents
		FROM ledger_txns t
		WHERE t.order_id = p_order_id AND spaza__is_payment(t.reason) AND (p_only IS NULL OR t.id = p_only)
	) x WHERE x.left_cents > 0;
$$;

-- Refund an order's payments, newest payment first, to where each came from.
--   p_amount_cents  NULL: everything still refundable (for a duplicate: the whole duplicate)
--   p_to            NULL: where it came from; 'store_credit': to store credit whatever the
--                   method; 'voucher': a cash (slip, COD) payment as a new voucher whose PIN's
--                   HMAC, last 4 digits and 'voucher-pin' key version the caller gives
--   p_duplicate_txn a payment found to be a duplicate: refund exactly that one, as a duplicate
-- outcome: refunded       refund_cents went to refund_to (voucher_id, voucher_last4: the voucher it went to)
--          too_much       more than is refundable (refund_cents says how much is)
--          nothing        nothing left to refund on this order
--          not_found      no such order, or p_duplicate_txn is not one of its payments
--          needs_pin      p_to 'voucher' for a cash payment without a new voucher's HMAC
--          conflict       the key was used before for another request
-- A retry with the same key returns the first answer and moves nothing.
CREATE FUNCTION spaza_refund(p_idem_key text, p_order_id bigint, p_amount_cents bigint, p_to text, p_reason text,
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
		IF p_to = 'store_credit' OR r.reason = 'store_credit_payment' THEN
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

-- Cancelling a paid order refunds its whole total (spaza_order_cancel, sql/002): an order that
-- was refunded in part, or paid partly by store credit, must be refunded with spaza_refund
-- instead, or the customer would get back more than they paid.
CREATE FUNCTION spaza__cancel_refund_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM refunds f WHERE f.order_id = NEW.order_id)
	   OR EXISTS (SELECT 1 FROM orders o WHERE o.id = NEW.order_id AND o.store_credit_cents > 0) THEN
		RAISE EXCEPTION 'order % was refunded in part or paid partly with store credit: refund it with spazactl refund',
			NEW.order_id USING ERRCODE = 'check_violation';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER ledger_txns_cancel_refund_guard BEFORE INSERT ON ledger_txns
	FOR EACH ROW WHEN (NEW.reason = 'refund' AND NEW.idem_key LIKE 'spaza:refund:%')
	EXECUTE FUNCTION spaza__cancel_refund_guard();

-- A voucher pays the whole total (spaza_voucher_redeem): on an order partly paid by store
-- credit it would take too much. The menus offer only credit or a slip for the rest; this is
-- the last line of defence.
CREATE FUNCTION spaza__voucher_split_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM orders o WHERE o.id = NEW.order_id AND o.store_credit_cents > 0) THEN
		RAISE EXCEPTION 'order % is partly paid with store credit: a voucher cannot pay the rest', NEW.order_id
			USING ERRCODE = 'check_violation';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER ledger_txns_voucher_split_guard BEFORE INSERT ON ledger_txns
	FOR EACH ROW WHEN (NEW.reason = 'voucher_redeem') EXECUTE FUNCTION spaza__voucher_split_guard();

-- An unpaid order that had store credit spent on it gives it back when it is cancelled (by
-- the customer, staff or expiry): refunded through the ledger, once.
CREATE FUNCTION spaza__cancel_store_credit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM spaza_refund('spaza:cancel_sc:' || NEW.id, NEW.id, NULL, 'store_credit', 'order cancelled');
	RETURN NULL;
END $$;
CREATE TRIGGER orders_cancel_store_credit AFTER UPDATE OF status ON orders
	FOR EACH ROW WHEN (NEW.status = 'cancelled' AND OLD.status = 'awaiting_payment' AND NEW.store_credit_cents > 0)
	EXECUTE FUNCTION spaza__cancel_store_credit();

------------------------------------------------------------------------------------------
-- Store credit at checkout

-- Spend the customer's store credit on an order: all that is due, or as much as there is.
-- outcome: paid          the order is paid (amount_cents from store credit)
--          partial       amount_cents went on it; balance_cents is still due (credit line or slip)
--          insufficient  no store credit to spend
--          not_payable   no such order, not this customer's, or not awaiting payment
--          conflict      the key was used before for another request
CREATE FUNCTION spaza_store_credit_pay(p_idem_key text, p_customer_id bigint, p_order_id bigint,
				       OUT outcome text, OUT amount_cents bigint, OUT balance_cents bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_hash bytea := spaza__hash('store_credit_pay', p_customer_id::text, p_order_id::text);
	v_txn ledger_txns%ROWTYPE;
	v_order orders%ROWTYPE;
	v_have bigint;
	v_due bigint;
	v_spend bigint;
BEGIN
	amount_cents := 0;
	balance_cents := 0;
	PERFORM spaza__lock_key(p_idem_key);
	SELECT * INTO v_txn FROM ledger_txns t WHERE t.idem_key = p_idem_key;
	IF FOUND THEN
		IF v_txn.content_hash <> v_hash THEN
			outcome := 'conflict';
		ELSE
			outcome := v_txn.result->>'outcome';
			amount_cents := (v_txn.result->>'amount_cents')::bigint;
			balance_cents := (v_txn.result->>'balance_cents')::bigint;
		END IF;
		RETURN;
	END IF;
	-- the customer's row serialises spending their store credit
	PERFORM 1 FROM customers c WHERE c.id = p_customer_id FOR NO KEY UPDATE;
	SELECT * INTO v_order FROM orders o WHERE o.id = p_order_id FOR UPDATE;
	IF NOT FOUND OR v_order.customer_id <> p_customer_id OR v_order.status <> 'awaiting_payment' THEN
		outcome := 'not_payable';
		RETURN;
	END IF;
	v_due := v_order.total_cents - v_order.store_credit_cents;
	v_have := spaza__store_credit(p_customer_id);
	balance_cents := v_due;
	IF v_have <= 0 THEN
		outcome := 'insufficient';
		RETURN;
	END IF;
	v_spend := least(v_have, v_due);
	amount_cents := v_spend;
	balance_cents := v_due - v_spend;
	outcome := CASE WHEN balance_cents = 0 THEN 'paid' ELSE 'partial' END;
	PERFORM spaza__post(p_idem_key, 'store_credit_payment', p_order_id, v_hash,
			    jsonb_build_object('outcome', outcome, 'amount_cents', amount_cents, 'balance_cents', balance_cents),
			    ARRAY[spaza__account('store_credit', p_customer_id), spaza__account('sales', NULL)],
			    ARRAY[v_spend, -v_spend]);
	UPDATE orders o SET store_credit_cents = o.store_credit_cents + v_spend, updated_at = now() WHERE o.id = p_order_id;
	IF outcome = 'paid' THEN
		PERFORM spaza__order_settle(p_order_id, 'store_credit', NULL, NULL);
	END IF;
END $$;

-- spaza_credit_hold and spaza_slip_create (sql/002) as before, for what is still due: the
-- order's total less the store credit already spent on it.
CREATE OR REPLACE FUNCTION spaza_credit_hold(p_idem_key text, p_customer_id bigint, p_order_id bigint,
				  p_ttl interval DEFAULT interval '15 minutes',
				  OUT outcome text, OUT hold_id bigint, OUT amount_cents bigint,
				  OUT available_cents bigint, OUT limit_cents bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_hold holds%ROWTYPE;
	v_order orders%ROWTYPE;
	v_due bigint;
BEGIN
	amount_cents := 0;
	PERFORM spaza__lock_key(p_idem_key);
	SELECT * INTO v_hold FROM holds h WHERE h.idem_key = p_idem_key;
	IF NOT FOUND THEN
		SELECT * INTO v_order FROM orders o WHERE o.id = p_order_id FOR UPDATE;
		IF NOT FOUND OR v_order.customer_id <> p_customer_id OR v_order.status <> 'awaiting_payment' THEN
			outcome := 'not_payable';
		ELSE
			SELECT * INTO v_hold FROM holds h WHERE h.order_id = p_order_id AND h.status = 'pending';
		END IF;
	END IF;
	IF v_hold.id IS NOT NULL THEN
		IF v_hold.customer_id <> p_customer_id OR v_hold.order_id <> p_order_id THEN
			outcome := 'conflict';
		ELSE
			outcome := 'ok';
			hold_id := v_hold.id;
			amount_cents := v_hold.amount_cents;
		END IF;
	END IF;
	IF outcome IS NULL THEN
		v_due := v_order.total_cents - v_order.store_credit_cents;
		UPDATE credit_lines c SET used_cents = c.used_cents + v_due, updated_at = now()
			WHERE c.customer_id = p_customer_id AND c.used_cents + v_due <= c.limit_cents;
		IF FOUND THEN
			INSERT INTO holds (idem_key, customer_id, order_id, amount_cents, expires_at)
				VALUES (p_idem_key, p_customer_id, p_order_id, v_due, now() + p_ttl)
				RETURNING id INTO hold_id;
			outcome := 'ok';
		ELSE
			outcome := 'over_limit';
		END IF;
		amount_cents := v_due;
	END IF;
	SELECT c.limit_cents, c.limit_cents - c.used_cents INTO limit_cents, available_cents
		FROM credit_lines c WHERE c.customer_id = p_customer_id;
	limit_cents := coalesce(limit_cents, 0);
	available_cents := coalesce(available_cents, 0);
END $$;

CREATE OR REPLACE FUNCTION spaza_slip_create(p_idem_key text, p_order_id bigint, p_receiver_id integer,
				  p_ttl interval DEFAULT interval '7 days',
				  OUT outcome text, OUT slip_ref text, OUT amount_cents bigint, OUT expires_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
	v_slip slips%ROWTYPE;
	v_order orders%ROWTYPE;
	v_ref text;
BEGIN
	PERFORM spaza__lock_key(p_idem_key);
	SELECT * INTO v_slip FROM slips s WHERE s.idem_key = p_idem_key;
	IF FOUND THEN
		IF v_slip.order_id <> p_order_id THEN
			outcome := 'conflict';
			RETURN;
		END IF;
		outcome := 'created';
		slip_ref := v_slip.ref;
		amount_cents := v_slip.amount_cents;
		expires_at := v_slip.expires_at;
		RETURN;
	END IF;
	SELECT * INTO v_order FROM orders o WHERE o.id = p_order_id FOR UPDATE;
	IF NOT FOUND OR v_order.status <> 'awaiting_payment' THEN
		outcome := 'not_payable';
		RETURN;
	END IF;
	v_ref := spaza_easypay_ref(p_receiver_id, p_order_id);
	SELECT * INTO v_slip FROM slips s WHERE s.ref = v_ref FOR UPDATE;
	IF FOUND THEN
		IF v_slip.status <> 'open' OR v_slip.expires_at <= now()
		   OR v_slip.amount_cents <> v_order.total_cents - v_order.store_credit_cents THEN
			UPDATE slips s SET status = 'open', expires_at = now() + p_ttl,
				amount_cents = v_order.total_cents - v_order.store_credit_cents
				WHERE s.id = v_slip.id RETURNING * INTO v_slip;
		END IF;
	ELSE
		INSERT INTO slips (ref, idem_key, order_id, receiver_id, amount_cents, expires_at)
			VALUES (v_ref, p_idem_key, p_order_id, p_receiver_id, v_order.total_cents - v_order.store_credit_cents,
				now() + p_ttl)
			RETURNING * INTO v_slip;
	END IF;
	outcome := 'created';
	slip_ref := v_slip.ref;
	amount_cents := v_slip.amount_cents;
	expires_at := v_slip.expires_at;
END $$;

------------------------------------------------------------------------------------------
-- Cash on delivery

-- The customer chose to pay cash on delivery (the shop enables it: `cod` in the config).
-- outcome: ok | not_payable (no such order, not this customer's, not awaiting payment).
-- Choosing again changes nothing.
CREATE FUNCTION spaza_cod_choose(p_customer_id bigint, p_order_id bigint,
				 OUT outcome text, OUT amount_cents bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_order orders%ROWTYPE;
BEGIN
	amount_cents := 0;
	SELECT * INTO v_order FROM orders o WHERE o.id = p_order_id FOR UPDATE;
	IF NOT FOUND OR v_order.customer_id <> p_customer_id OR v_order.status <> 'awaiting_payment' THEN
		outcome := 'not_payable';
		RETURN;
	END IF;
	amount_cents := v_order.total_cents - v_order.store_credit_cents;
	IF v_order.cod_at IS NULL THEN
		UPDATE orders o SET cod_at = now(), payment_method = 'cod', updated_at = now() WHERE o.id = p_order_id;
	END IF;
	outcome := 'ok';
END $$;

-- A courier (p_retailer_id NULL: the shop's own) or a retailer confirms the cash of a cash on
-- delivery order: the order is paid. Once per order, whoever confirms and however often.
-- outcome: paid         amount_cents settled (a repeat: the first result; by says who confirmed)
--          not_cod      the customer did not choose cash on delivery for it
--          not_payable  it is not awaiting payment (cancelled, or paid another way)
--          not_found    no such order
CREATE FUNCTION spaza_cod_settle(p_order_id bigint, p_by text, p_retailer_id integer DEFAULT NULL,
				 OUT outcome text, OUT amount_cents bigint, OUT confirmed_by text)
LANGUAGE plpgsql AS $$
DECLARE
	v_key text := 'spaza:cod:' || p_order_id;
	v_txn ledger_txns%ROWTYPE;
	v_order orders%ROWTYPE;
BEGIN
	amount_cents := 0;
	PERFORM spaza__lock_key(v_key);
	SELECT * INTO v_txn FROM ledger_txns t WHERE t.idem_key = v_key;
	IF FOUND THEN
		outcome := v_txn.result->>'outcome';
		amount_cents := (v_txn.result->>'amount_cents')::bigint;
		confirmed_by := v_txn.result->>'by';
		RETURN;
	END IF;
	SELECT * INTO v_order FROM orders o WHERE o.id = p_order_id FOR UPDATE;
	IF NOT FOUND THEN
		outcome := 'not_found';
	ELSIF v_order.cod_at IS NULL THEN
		outcome := 'not_cod';
	ELSIF v_order.status <> 'awaiting_payment' THEN
		outcome := 'not_payable';
	END IF;
	IF outcome IS NOT NULL THEN
		RETURN;
	END IF;
	outcome := 'paid';
	amount_cents := v_order.total_cents - v_order.store_credit_cents;
	confirmed_by := p_by;
	PERFORM spaza__post(v_key, 'cod_payment', p_order_id, spaza__hash('cod', p_order_id::text),
			    jsonb_build_object('outcome', outcome, 'amount_cents', amount_cents, 'by', p_by,
					       'retailer_id', p_retailer_id),
			    ARRAY[spaza__account('retailer_clearing', p_retailer_id), spaza__account('sales', NULL)],
			    ARRAY[amount_cents, -amount_cents]);
	PERFORM spaza__order_settle(p_order_id, 'cod', NULL, NULL);
END $$;

------------------------------------------------------------------------------------------
-- Money events (the customer's timeline) and the double-charge detector

-- One row per money movement a customer sees: payments, refunds, repayments. Written at
-- commit by a deferred trigger, when the posting's entries are all in.
CREATE TABLE money_events (
	id          bigserial PRIMARY KEY,
	customer_id bigint NOT NULL REFERENCES customers(id),
	at          timestamptz NOT NULL,
	kind        text NOT NULL,
	ref         text NOT NULL,
	summary     text NOT NULL,
	txn_id      bigint NOT NULL UNIQUE REFERENCES ledger_txns(id)
);
CREATE INDEX money_events_by_customer ON money_events (customer_id, at DESC);

-- Payments that found their order already paid: the sweep refunds the confirmed ones once
-- (status refunded), the rest wait for a person.
CREATE TABLE double_charges (
	id           bigserial PRIMARY KEY,
	kind         text NOT NULL CHECK (kind IN ('same_order', 'slip_after_other', 'same_amount_two_methods')),
	customer_id  bigint NOT NULL REFERENCES customers(id),
	order_id     bigint NOT NULL REFERENCES orders(id),
	first_txn_id bigint NOT NULL REFERENCES ledger_txns(id),
	dup_txn_id   bigint NOT NULL UNIQUE REFERENCES ledger_txns(id),
	amount_cents bigint NOT NULL,
	status       text NOT NULL DEFAULT 'found' CHECK (status IN ('found', 'refunded', 'for_a_person')),
	refund_key   text,
	found_at     timestamptz NOT NULL DEFAULT now(),
	resolved_at  timestamptz
);
CREATE INDEX double_charges_by_customer ON double_charges (customer_id, found_at);

CREATE FUNCTION spaza__rand(p_cents bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT 'R' || to_char(p_cents / 100.0, 'FM999999999990.00');
$$;

-- The payments of one order that came when it was already paid: a payment is a duplicate when
-- what the earlier ones still hold (less reversals) already covers the order's total.
CREATE FUNCTION spaza__dc_order(p_order_id bigint)
RETURNS TABLE (kind text, customer_id bigint, order_id bigint, first_txn_id bigint, dup_txn_id bigint, amount_cents bigint)
LANGUAGE sql STABLE AS $$
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
$$;

-- Note an order's duplicate payments (the trigger below, on every payment; and the sweep).
CREATE FUNCTION spaza__dc_note(p_order_id bigint) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	v_n integer;
BEGIN
	INSERT INTO double_charges (kind, customer_id, order_id, first_txn_id, dup_txn_id, amount_cents)
		SELECT d.kind, d.customer_id, d.order_id, d.first_txn_id, d.dup_txn_id, d.amount_cents
		FROM spaza__dc_order(p_order_id) d
		WHERE NOT EXISTS (SELECT 1 FROM refunds f WHERE f.payment_txn_id = d.dup_txn_id AND f.duplicate)
		ON CONFLICT (dup_txn_id) DO NOTHING;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	RETURN v_n;
END $$;

CREATE FUNCTION spaza__money_event() RETURNS trigger LANGUAGE plpgsql AS $$
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
				WHEN 'cod_payment' THEN 'cash on delivery' ELSE 'other' END);
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
CREATE CONSTRAINT TRIGGER ledger_txns_money_event AFTER INSERT ON ledger_txns
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION spaza__money_event();

-- The customer timeline's money rows (contract: customer_id, at, kind, ref, summary).
CREATE VIEW timeline_money AS
	SELECT m.customer_id, m.at, m.kind, m.ref, m.summary FROM money_events m;

-- The sweep (spazactl care double-charges, nightly, and care's "charged twice" ticket for one
-- customer): notes what the per-payment trigger may have missed, then lists every double
-- charge found since p_since, confirmed ones first. Same amount paid by two methods for two
-- orders of one customer within 10 minutes is listed for a person, never refunded here.
CREATE FUNCTION spaza_dc_scan(p_customer_id bigint DEFAULT NULL, p_since timestamptz DEFAULT NULL)
RETURNS TABLE (id bigint, kind text, status text, customer_id bigint, order_id bigint, first_txn_id bigint,
	       dup_txn_id bigint, amount_cents bigint, found_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
	v_order bigint;
BEGIN
	FOR v_order IN SELECT DISTINCT t.order_id FROM ledger_txns t JOIN orders o ON o.id = t.order_id
			WHERE spaza__is_payment(t.reason) AND (p_since IS NULL OR t.created_at >= p_since)
			  AND (p_customer_id IS NULL OR o.customer_id = p_customer_id) ORDER BY 1 LOOP
		PERFORM spaza__dc_note(v_order);
	END LOOP;
	INSERT INTO double_charges (kind, customer_id, order_id, first_txn_id, dup_txn_id, amount_cents, status)
		SELECT 'same_amount_two_methods', o2.customer_id, t2.order_id, t1.id, t2.id, spaza__txn_sales(t2.id),
		       'for_a_person'
		FROM ledger_txns t2 JOIN orders o2 ON o2.id = t2.order_id
		JOIN ledger_txns t1 ON t1.id < t2.id AND spaza__is_payment(t1.reason) AND t1.reason <> t2.reason
		     AND t1.order_id <> t2.order_id AND t1.created_at > t2.created_at - interval '10 minutes'
		JOIN orders o1 ON o1.id = t1.order_id AND o1.customer_id = o2.customer_id
		WHERE spaza__is_payment(t2.reason) AND (p_since IS NULL OR t2.created_at >= p_since)
		  AND (p_customer_id IS NULL OR o2.customer_id = p_customer_id)
		  AND spaza__txn_sales(t1.id) = spaza__txn_sales(t2.id)
		  AND spaza__txn_reversed(t1.id) = 0 AND spaza__txn_reversed(t2.id) = 0
		ON CONFLICT ON CONSTRAINT double_charges_dup_txn_id_key DO NOTHING;
	RETURN QUERY SELECT d.id, d.kind, d.status, d.customer_id, d.order_id, d.first_txn_id, d.dup_txn_id,
			    d.amount_cents, d.found_at
		FROM double_charges d
		WHERE (p_since IS NULL OR d.found_at >= p_since) AND (p_customer_id IS NULL OR d.customer_id = p_customer_id)
		ORDER BY d.kind = 'same_amount_two_methods', d.id;
END $$;

-- Refund one confirmed double charge (same order paid twice): the duplicate payment goes back
-- where it came from (a cash one as store credit), once: the key comes from the duplicate
-- payment, so every sweep, ticket or retry finds the first refund.
-- outcome: refunded (refund_cents to refund_to; a repeat: the first result) | not_found |
--          for_a_person (ambiguous: not refunded here) | nothing (already refunded otherwise)
CREATE FUNCTION spaza_dc_refund(p_id bigint,
				OUT outcome text, OUT refund_cents bigint, OUT refund_to text, OUT customer_id bigint,
				OUT order_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_dc double_charges%ROWTYPE;
	v_key text;
BEGIN
	refund_cents := 0;
	SELECT * INTO v_dc FROM double_charges d WHERE d.id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		outcome := 'not_found';
		RETURN;
	END IF;
	customer_id := v_dc.customer_id;
	order_id := v_dc.order_id;
	IF v_dc.kind = 'same_amount_two_methods' THEN
		outcome := 'for_a_person';
		RETURN;
	END IF;
	v_key := 'spaza:dc:' || v_dc.dup_txn_id;
	SELECT r.outcome, r.refund_cents, r.refund_to INTO outcome, refund_cents, refund_to
		FROM spaza_refund(v_key, v_dc.order_id, NULL,
				  CASE WHEN v_dc.kind = 'slip_after_other' THEN 'store_credit' END,
				  'double charge', v_dc.dup_txn_id) r;
	IF outcome = 'refunded' AND v_dc.status = 'found' THEN
		UPDATE double_charges d SET status = 'refunded', refund_key = v_key, resolved_at = now() WHERE d.id = p_id;
	END IF;
END $$;

------------------------------------------------------------------------------------------
-- The invariants (spazactl ledger check), as in sql/002 with these changes:
--   * an order is paid when its payments, less reversals and less refunds of duplicate
--     payments, come to its total (several payments: store credit and the rest); a cancelled
--     one nets to zero; an unpaid one holds exactly the store credit spent on it;
--   * every refund points at a payment of its order and no payment is refunded beyond what it
--     paid; a refund posting without a refund row is a cancellation's (sql/002), of a cancelled order;
--   * a voucher made by a refund was "sold" by that refund.
CREATE OR REPLACE FUNCTION spaza_ledger_check() RETURNS TABLE (invariant text, detail text)
LANGUAGE sql STABLE AS $$
	SELECT 'unbalanced transaction', format('transaction %s (%s, key %s): %s entries summing to %s',
		t.id, t.reason, t.idem_key, count(e.id), coalesce(sum(e.amount_cents), 0))
	FROM ledger_txns t LEFT JOIN ledger_entries e ON e.txn_id = t.id
	GROUP BY t.id HAVING coalesce(sum(e.amount_cents), 0) <> 0 OR count(e.id) < 2
	UNION ALL
	SELECT 'ledger does not sum to zero', format('all entries sum to %s', sum(e.amount_cents))
	FROM ledger_entries e HAVING sum(e.amount_cents) <> 0
	UNION ALL
	SELECT 'credit line used beyond its limit', format('customer %s: used %s, limit %s', c.customer_id,
		c.used_cents, c.limit_cents)
	FROM credit_lines c WHERE c.used_cents > c.limit_cents OR c.used_cents < 0
	UNION ALL
	SELECT 'credit line out of step with the ledger', format('customer %s: used %s, owed per ledger %s, held %s',
		c.customer_id, c.used_cents, owed, held)
	FROM credit_lines c,
	     LATERAL (SELECT coalesce(sum(e.amount_cents), 0) AS owed FROM ledger_accounts a
		      JOIN ledger_entries e ON e.account_id = a.id
		      WHERE a.kind = 'customer_credit' AND a.owner_id = c.customer_id) o,
	     LATERAL (SELECT coalesce(sum(h.amount_cents), 0) AS held FROM holds h
		      WHERE h.customer_id = c.customer_id AND h.status = 'pending') hh
	WHERE c.used_cents <> owed + held
	UNION ALL
	SELECT 'voucher redeemed beyond its value', format('voucher %s (...%s): value %s, sold for %s, remaining %s, float balance %s',
		v.id, v.last4, v.value_cents, sold, v.remaining_cents, -bal)
	FROM vouchers v,
	     LATERAL (SELECT coalesce(-sum(e.amount_cents) FILTER (WHERE t.reason = 'voucher_sale'
				OR t.id = (SELECT f.txn_id FROM refunds f WHERE f.voucher_id = v.id AND f.refund_to = 'new_voucher')), 0) AS sold,
			     coalesce(sum(e.amount_cents), 0) AS bal
		      FROM ledger_accounts a JOIN ledger_entries e ON e.account_id = a.id
		      JOIN ledger_txns t ON t.id = e.txn_id
		      WHERE a.kind = 'voucher_float' AND a.owner_id = v.id) f
	WHERE sold <> v.value_cents OR -bal <> v.remaining_cents OR -bal < 0 OR -bal > v.value_cents
	UNION ALL
	SELECT 'slip paid more than once', format('slip %s: %s payments in force, status %s', s.ref, n, s.status)
	FROM slips s, LATERAL (SELECT count(*) AS n FROM till_payments p WHERE p.slip_id = s.id AND p.status = 'paid') pc
	WHERE n > 1 OR (s.status = 'paid') <> (n = 1)
	UNION ALL
	SELECT 'till payment not on the ledger', format('till payment %s of retailer %s (status %s)',
		p.till_payment_id, p.retailer_id, p.status)
	FROM till_payments p
	WHERE (p.amount_cents > 0 AND p.ledger_txn_id IS NULL)
	   OR (p.status = 'reversed' AND p.amount_cents > 0 AND p.reversal_txn_id IS NULL)
	UNION ALL
	SELECT CASE WHEN o.status IN ('paid', 'shipped', 'delivered') THEN 'paid order not paid exactly once'
		    WHEN o.status = 'cancelled' THEN 'cancelled order with money kept'
		    ELSE 'unpaid order with a settled payment' END,
	       format('order %s (%s): paid %s, reversed %s, refunded %s (%s as duplicates), store credit %s, total %s',
		      o.id, o.status, m.paid, m.reversed, m.refunded, m.dup, o.store_credit_cents, o.total_cents)
	FROM orders o,
	LATERAL (
		SELECT coalesce(sum(spaza__txn_sales(t.id)) FILTER (WHERE spaza__is_payment(t.reason)), 0) AS paid,
		       coalesce(-sum(spaza__txn_sales(t.id)) FILTER (WHERE t.reason = 'reversal'), 0) AS reversed,
		       coalesce((SELECT sum(e.amount_cents) FROM ledger_txns r JOIN ledger_entries e ON e.txn_id = r.id
				 JOIN ledger_accounts a ON a.id = e.account_id
				 WHERE r.order_id = o.id AND r.reason = 'refund' AND a.kind = 'refunds'), 0) AS refunded,
		       coalesce((SELECT sum(f.amount_cents) FROM refunds f WHERE f.order_id = o.id AND f.duplicate), 0) AS dup
		FROM ledger_txns t WHERE t.order_id = o.id
	) m
	WHERE CASE WHEN o.status IN ('paid', 'shipped', 'delivered') THEN m.paid - m.reversed - m.dup <> o.total_cents
		   WHEN o.status = 'cancelled' THEN m.paid - m.reversed - m.refunded <> 0
		   ELSE m.paid - m.reversed - m.refunded <> o.store_credit_cents END
	UNION ALL
	-- every refund points at a payment of its own order, and returns no more than it paid
	SELECT 'refund beyond its payment', format('payment %s (%s, order %s): paid %s, reversed %s, refunded %s',
		t.id, t.reason, t.order_id, spaza__txn_sales(t.id), spaza__txn_reversed(t.id), sum(f.amount_cents))
	FROM refunds f JOIN ledger_txns t ON t.id = f.payment_txn_id
	GROUP BY t.id
	HAVING sum(f.amount_cents) > spaza__txn_sales(t.id) - spaza__txn_reversed(t.id)
	    OR bool_or(NOT spaza__is_payment(t.reason) OR t.order_id IS DISTINCT FROM f.order_id)
	UNION ALL
	SELECT 'refund not pointing at a payment', format('transaction %s (key %s, order %s)', t.id, t.idem_key, t.order_id)
	FROM ledger_txns t LEFT JOIN refunds f ON f.txn_id = t.id LEFT JOIN orders o ON o.id = t.order_id
	WHERE t.reason = 'refund' AND f.id IS NULL
	  AND NOT (t.idem_key = 'spaza:refund:' || t.order_id AND o.status = 'cancelled')
	UNION ALL
	SELECT 'refund out of step with its posting', format('refund %s: %s, posting %s moved %s', f.id, f.amount_cents,
		f.txn_id, -spaza__txn_sales(f.txn_id))
	FROM refunds f JOIN ledger_entries e ON e.txn_id = f.txn_id JOIN ledger_accounts a ON a.id = e.account_id
	WHERE a.kind = 'refunds' AND e.amount_cents <> f.amount_cents
	UNION ALL
	SELECT 'store credit below zero', format('customer %s: store credit %s', a.owner_id, -sum(e.amount_cents))
	FROM ledger_accounts a JOIN ledger_entries e ON e.account_id = a.id
	WHERE a.kind = 'store_credit' GROUP BY a.owner_id HAVING sum(e.amount_cents) > 0;
$$;

-- Money events of the time before this migration.
INSERT INTO money_events (customer_id, at, kind, ref, summary, txn_id)
	SELECT o.customer_id, t.created_at,
	       CASE WHEN t.reason = 'refund' THEN 'refund' WHEN t.reason = 'reversal' THEN 'reversal' ELSE 'payment' END,
	       t.order_id::text,
	       CASE WHEN t.reason = 'refund' THEN format('refund for order #%s', t.order_id)
		    WHEN t.reason = 'reversal' THEN format('till payment for order #%s reversed', t.order_id)
		    ELSE format('paid %s for order #%s', spaza__rand(spaza__txn_sales(t.id)), t.order_id) END,
	       t.id
	FROM ledger_txns t JOIN orders o ON o.id = t.order_id
	WHERE spaza__is_payment(t.reason) OR t.reason IN ('refund', 'reversal');

-- Rights (sql/006_roles.sql): the ledger's doors run as the owner with a fixed search_path;
-- the daemon may pay with store credit, choose cash on delivery, read balances and money
-- events; refunds, COD confirmations and the sweep are staff's (spazactl, as the owner).
ALTER FUNCTION spaza__is_payment SET search_path = public, pg_temp;
ALTER FUNCTION spaza__txn_sales SET search_path = public, pg_temp;
ALTER FUNCTION spaza__txn_reversed SET search_path = public, pg_temp;
ALTER FUNCTION spaza__store_credit SET search_path = public, pg_temp;
ALTER FUNCTION spaza__refundable SET search_path = public, pg_temp;
ALTER FUNCTION spaza__rand SET search_path = public, pg_temp;
ALTER FUNCTION spaza__dc_order SET search_path = public, pg_temp;
ALTER FUNCTION spaza__dc_note SET search_path = public, pg_temp;
-- triggers fire as whoever writes the row (spaza_app through the ledger's doors): as the owner
ALTER FUNCTION spaza__cancel_refund_guard SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza__voucher_split_guard SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza__cancel_store_credit SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza__money_event SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_refund SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_store_credit_pay SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_credit_hold SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_slip_create SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_cod_choose SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_cod_settle SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_dc_scan SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_dc_refund SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_ledger_check SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE ALL ON FUNCTION spaza__is_payment, spaza__txn_sales, spaza__txn_reversed, spaza__store_credit, spaza__refundable, spaza__rand,
	spaza__dc_order, spaza__dc_note, spaza__cancel_refund_guard, spaza__voucher_split_guard,
	spaza__cancel_store_credit, spaza__money_event, spaza_refund, spaza_cod_settle, spaza_dc_scan,
	spaza_dc_refund FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spaza_store_credit_pay, spaza_cod_choose, spaza_credit_hold, spaza_slip_create,
	spaza_ledger_check TO spaza_app;
GRANT SELECT ON money_events, timeline_money TO spaza_app;

-- Repay credit from a voucher whose PIN was hashed under one of several key versions (as
-- spaza_voucher_redeem_v, sql/008): the voucher is found by any of them, then
-- spaza_credit_repay (sql/002) does the work; key_retired as there.
CREATE FUNCTION spaza_credit_repay_v(p_idem_key text, p_pin_hmacs_hex text[], p_versions integer[],
				     p_min_version integer, p_customer_id bigint,
				     OUT outcome text, OUT repaid_cents bigint, OUT remaining_cents bigint,
				     OUT owed_cents bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_n integer := array_length(p_pin_hmacs_hex, 1);
	v_found vouchers%ROWTYPE;
BEGIN
	repaid_cents := 0;
	remaining_cents := 0;
	owed_cents := 0;
	SELECT v.* INTO v_found FROM vouchers v
		JOIN unnest(p_pin_hmacs_hex, p_versions) AS m(mac, ver) ON v.pin_hmac = decode(m.mac, 'hex') AND v.key_version = m.ver
		ORDER BY v.key_version DESC LIMIT 1;
	IF FOUND AND v_found.key_version < p_min_version THEN
		SELECT f.outcome INTO outcome FROM voucher_failures f WHERE f.idem_key = p_idem_key;
		IF FOUND THEN
			RETURN;
		END IF;
		INSERT INTO voucher_failures (customer_id, idem_key, request_hash, outcome)
			VALUES (p_customer_id, p_idem_key, spaza__hash('credit_repay', p_pin_hmacs_hex[v_n], p_customer_id::text),
				'key_retired') ON CONFLICT (idem_key) DO NOTHING;
		outcome := 'key_retired';
		RETURN;
	END IF;
	SELECT r.outcome, r.repaid_cents, r.remaining_cents, r.owed_cents
		INTO outcome, repaid_cents, remaining_cents, owed_cents
		FROM spaza_credit_repay(p_idem_key, p_customer_id,
					COALESCE(v_found.pin_hmac, decode(p_pin_hmacs_hex[v_n], 'hex'))) r;
END $$;
ALTER FUNCTION spaza_credit_repay_v SECURITY DEFINER SET search_path = public, pg_temp;
GRANT EXECUTE ON FUNCTION spaza_credit_repay_v TO spaza_app;

------------------------------------------------------------------------------------------
-- Repaying credit by a barcode slip: a slip for what the customer owes, paid at any till like an
-- order's slip; the till's payment repays the line. Its reference's account is 900000000 +
-- the customer id, far above any order number (orders count up from 1001).
ALTER TABLE slips ALTER COLUMN order_id DROP NOT NULL;
ALTER TABLE slips ADD COLUMN customer_id bigint REFERENCES customers(id),
	ADD CONSTRAINT slips_order_or_repayment CHECK ((order_id IS NULL) <> (customer_id IS NULL));
CREATE INDEX slips_by_customer ON slips (customer_id) WHERE customer_id IS NOT NULL;

-- outcome: created       slip_ref for amount_cents (what is owed now), expires_at
--          nothing_owed  no debt to repay
--          conflict      the key was used before for another customer
-- Asking again returns the customer's slip, its amount and expiry brought up to date.
CREATE FUNCTION spaza_repay_slip_create(p_idem_key text, p_customer_id bigint, p_receiver_id integer,
					p_ttl interval DEFAULT interval '7 days',
					OUT outcome text, OUT slip_ref text, OUT amount_cents bigint, OUT expires_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
	v_slip slips%ROWTYPE;
	v_owed bigint;
	v_ref text;
BEGIN
	PERFORM spaza__lock_key(p_idem_key);
	SELECT * INTO v_slip FROM slips s WHERE s.idem_key = p_idem_key;
	IF FOUND AND v_slip.customer_id IS DISTINCT FROM p_customer_id THEN
		outcome := 'conflict';
		RETURN;
	END IF;
	PERFORM 1 FROM customers c WHERE c.id = p_customer_id FOR NO KEY UPDATE;
	SELECT c.used_cents - coalesce((SELECT sum(h.amount_cents) FROM holds h
					WHERE h.customer_id = p_customer_id AND h.status = 'pending'), 0)
		INTO v_owed FROM credit_lines c WHERE c.customer_id = p_customer_id;
	IF coalesce(v_owed, 0) <= 0 THEN
		outcome := 'nothing_owed';
		amount_cents := 0;
		RETURN;
	END IF;
	v_ref := spaza_easypay_ref(p_receiver_id, 900000000 + p_customer_id);
	SELECT * INTO v_slip FROM slips s WHERE s.ref = v_ref FOR UPDATE;
	IF FOUND THEN
		IF v_slip.status <> 'open' OR v_slip.expires_at <= now() OR v_slip.amount_cents <> v_owed THEN
			UPDATE slips s SET status = 'open', expires_at = now() + p_ttl, amount_cents = v_owed, paid_at = NULL
				WHERE s.id = v_slip.id RETURNING * INTO v_slip;
		END IF;
	ELSE
		INSERT INTO slips (ref, idem_key, customer_id, receiver_id, amount_cents, expires_at)
			VALUES (v_ref, p_idem_key, p_customer_id, p_receiver_id, v_owed, now() + p_ttl)
			RETURNING * INTO v_slip;
	END IF;
	outcome := 'created';
	slip_ref := v_slip.ref;
	amount_cents := v_slip.amount_cents;
	expires_at := v_slip.expires_at;
END $$;

-- A till's payment on a repayment slip (spaza_till_pay below sends them here): as
-- spaza_slip_pay for an order's slip, but the money repays the line; what the customer repaid
-- meanwhile by voucher makes the rest store credit rather than a negative debt.
CREATE FUNCTION spaza__repay_slip_pay(p_retailer integer, p_key_id text, p_till_payment_id text, p_slip_id bigint,
				      p_amount_cents bigint, p_request_hash text,
				      OUT outcome text, OUT order_id bigint, OUT amount_cents bigint, OUT response jsonb)
LANGUAGE plpgsql AS $$
DECLARE
	v_slip slips%ROWTYPE;
	v_tp till_payments%ROWTYPE;
	v_tp_id bigint;
	v_owed bigint;
	v_to_credit bigint;
	v_txn bigint;
	v_accounts bigint[];
	v_amounts bigint[];
BEGIN
	SELECT * INTO v_tp FROM till_payments t WHERE t.retailer_id = p_retailer AND t.till_payment_id = p_till_payment_id;
	IF FOUND THEN
		amount_cents := v_tp.amount_cents;
		IF v_tp.request_hash IS DISTINCT FROM p_request_hash THEN
			outcome := 'conflict';
			response := spaza__till_response(outcome, NULL, p_till_payment_id, NULL, NULL);
		ELSE
			response := v_tp.response;
			outcome := response->>'outcome';
		END IF;
		RETURN;
	END IF;
	PERFORM 1 FROM customers c WHERE c.id = (SELECT s.customer_id FROM slips s WHERE s.id = p_slip_id) FOR NO KEY UPDATE;
	SELECT * INTO v_slip FROM slips s WHERE s.id = p_slip_id FOR UPDATE;
	amount_cents := v_slip.amount_cents;
	IF v_slip.status = 'paid' THEN
		outcome := 'already_paid';
	ELSIF v_slip.status = 'expired' OR (v_slip.status = 'open' AND v_slip.expires_at <= now()) THEN
		outcome := 'expired';
	ELSIF v_slip.status <> 'open' THEN
		outcome := 'not_payable';
	ELSIF p_amount_cents IS DISTINCT FROM v_slip.amount_cents THEN
		outcome := 'wrong_amount';
	END IF;
	IF outcome IS NOT NULL THEN
		response := spaza__till_response(outcome, v_slip.ref, p_till_payment_id, NULL, amount_cents);
		RETURN;
	END IF;
	outcome := 'paid';
	response := spaza__till_response(outcome, v_slip.ref, p_till_payment_id, NULL, amount_cents);
	INSERT INTO till_payments (retailer_id, till_payment_id, key_id, slip_id, amount_cents, status, request_hash, response)
		VALUES (p_retailer, p_till_payment_id, p_key_id, v_slip.id, v_slip.amount_cents, 'paid', p_request_hash, response)
		RETURNING id INTO v_tp_id;
	SELECT c.used_cents - coalesce((SELECT sum(h.amount_cents) FROM holds h
					WHERE h.customer_id = v_slip.customer_id AND h.status = 'pending'), 0)
		INTO v_owed FROM credit_lines c WHERE c.customer_id = v_slip.customer_id FOR UPDATE;
	v_to_credit := greatest(least(v_slip.amount_cents, coalesce(v_owed, 0)), 0);
	v_accounts := ARRAY[spaza__account('retailer_clearing', p_retailer)];
	v_amounts := ARRAY[v_slip.amount_cents];
	IF v_to_credit > 0 THEN
		UPDATE credit_lines c SET used_cents = c.used_cents - v_to_credit, updated_at = now()
			WHERE c.customer_id = v_slip.customer_id;
		v_accounts := v_accounts || spaza__account('customer_credit', v_slip.customer_id);
		v_amounts := v_amounts || -v_to_credit;
	END IF;
	IF v_to_credit < v_slip.amount_cents THEN
		v_accounts := v_accounts || spaza__account('store_credit', v_slip.customer_id);
		v_amounts := v_amounts || (v_to_credit - v_slip.amount_cents);
	END IF;
	v_txn := spaza__post('spaza:slip_pay:' || v_tp_id, 'credit_repayment', NULL,
			     spaza__hash('repay_slip_pay', p_retailer::text, p_till_payment_id, p_request_hash), response,
			     v_accounts, v_amounts);
	UPDATE till_payments t SET ledger_txn_id = v_txn WHERE t.id = v_tp_id;
	UPDATE slips s SET status = 'paid', paid_at = now() WHERE s.id = v_slip.id;
END $$;

-- The till's doors (sql/007) learn repayment slips: a payment repays the line; a reversal is
-- refused (the debt was settled; staff sort a mistaken one out).
CREATE OR REPLACE FUNCTION spaza_till_pay(p_key_id text, p_till_payment_id text, p_ref text, p_amount_cents bigint,
			       p_request_hash text,
			       OUT outcome text, OUT order_id bigint, OUT amount_cents bigint, OUT response jsonb)
LANGUAGE plpgsql AS $$
DECLARE
	v_slip slips%ROWTYPE;
	v_retailer integer;
BEGIN
	IF spaza__till_bind(p_key_id, p_till_payment_id, p_ref) THEN
		outcome := 'wrong_slip';
		response := spaza__till_response(outcome, regexp_replace(p_ref, '\s', '', 'g'), p_till_payment_id, NULL, NULL);
		RETURN;
	END IF;
	SELECT * INTO v_slip FROM slips s WHERE s.ref = regexp_replace(p_ref, '\s', '', 'g');
	SELECT k.retailer_id INTO v_retailer FROM retailer_keys k WHERE k.key_id = p_key_id AND k.revoked_at IS NULL;
	IF v_slip.customer_id IS NOT NULL AND v_retailer IS NOT NULL THEN
		SELECT * INTO outcome, order_id, amount_cents, response
			FROM spaza__repay_slip_pay(v_retailer, p_key_id, p_till_payment_id, v_slip.id, p_amount_cents,
						   p_request_hash);
		RETURN;
	END IF;
	SELECT * INTO outcome, order_id, amount_cents, response
		FROM spaza_slip_pay(p_key_id, p_till_payment_id, p_ref, p_amount_cents, p_request_hash);
END $$;

CREATE OR REPLACE FUNCTION spaza_till_reverse(p_key_id text, p_till_payment_id text, p_ref text DEFAULT NULL,
				   OUT outcome text, OUT order_id bigint, OUT amount_cents bigint, OUT response jsonb)
LANGUAGE plpgsql AS $$
BEGIN
	IF p_ref IS NOT NULL AND spaza__till_bind(p_key_id, p_till_payment_id, p_ref) THEN
		outcome := 'wrong_slip';
		amount_cents := 0;
		response := spaza__till_response(outcome, regexp_replace(p_ref, '\s', '', 'g'), p_till_payment_id, NULL, NULL);
		RETURN;
	END IF;
	IF EXISTS (SELECT 1 FROM slips s WHERE s.customer_id IS NOT NULL
		   AND (s.ref = regexp_replace(p_ref, '\s', '', 'g')
			OR s.id = (SELECT b.slip_id FROM till_payment_slips b JOIN retailer_keys k ON k.retailer_id = b.retailer_id
				   WHERE k.key_id = p_key_id AND b.till_payment_id = p_till_payment_id))) THEN
		outcome := 'not_reversible';
		amount_cents := 0;
		response := spaza__till_response(outcome, regexp_replace(p_ref, '\s', '', 'g'), p_till_payment_id, NULL, NULL);
		RETURN;
	END IF;
	SELECT * INTO outcome, order_id, amount_cents, response
		FROM spaza_slip_reverse(p_key_id, p_till_payment_id, p_ref);
END $$;

-- What a till sees (sql/002): repayment slips too, with no order ("payable" while open).
CREATE OR REPLACE FUNCTION spaza_slip_lookup(p_ref text)
RETURNS TABLE (slip_ref text, status text, amount_cents bigint, expires_at timestamptz, order_id bigint,
	       order_status text)
LANGUAGE sql STABLE AS $$
	SELECT s.ref, CASE WHEN s.status = 'open' AND s.expires_at <= now() THEN 'expired' ELSE s.status END,
	       s.amount_cents, s.expires_at, s.order_id,
	       coalesce(o.status, CASE WHEN s.status = 'open' THEN 'awaiting_payment' ELSE 'paid' END)
	FROM slips s LEFT JOIN orders o ON o.id = s.order_id
	WHERE s.ref = regexp_replace(p_ref, '\s', '', 'g');
$$;

ALTER FUNCTION spaza_repay_slip_create SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza__repay_slip_pay SET search_path = public, pg_temp;
ALTER FUNCTION spaza_till_pay SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_till_reverse SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_slip_lookup SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE ALL ON FUNCTION spaza__repay_slip_pay FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spaza_repay_slip_create TO spaza_app;
-- spaza_slip_pay (sql/002) is for an order's slip: a repayment slip reached there directly
-- would post a payment of no order.
CREATE FUNCTION spaza__slip_payment_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'a slip payment without an order (a repayment slip goes through spaza_till_pay)'
		USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER ledger_txns_slip_payment_guard BEFORE INSERT ON ledger_txns
	FOR EACH ROW WHEN (NEW.reason = 'slip_payment' AND NEW.order_id IS NULL)
	EXECUTE FUNCTION spaza__slip_payment_guard();
ALTER FUNCTION spaza__slip_payment_guard SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE ALL ON FUNCTION spaza__slip_payment_guard FROM PUBLIC;
