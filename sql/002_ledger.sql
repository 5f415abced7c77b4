-- Spaza schema, step 2: the money core. A double-entry ledger in integer cents and the
-- payment methods on top of it: vouchers, credit lines, barcode slips paid at retailers' tills.
--
-- Every money movement is ONE call of one of the spaza_* functions below, so the daemon can
-- send it through its asynchronous pipeline as a single statement and the CLI can call the
-- same thing. Each function:
--   * is idempotent by a key: a retry with the same key and the same content returns the
--     first result and moves no money again; the same key with different content gets the
--     outcome 'conflict';
--   * is safe under concurrency: it locks rows in one global order (advisory lock on the key,
--     customer, order, voucher, credit line, slip, hold) and relies on unique indexes and
--     CHECK constraints as the last line of defence;
--   * returns one small row (an outcome word plus numbers) rather than raising for business
--     outcomes, so one refused payment never aborts a batch of other work. Exceptions mean a
--     bug or a broken invariant, and roll everything back.
--
-- Sign convention: an entry's amount is positive for a debit and negative for a credit;
-- the entries of every transaction sum to zero (a deferred constraint trigger enforces it).
-- Balances are sum(amount): customer_credit > 0 is what a customer owes; voucher_float < 0
-- is what a voucher is still worth; store_credit < 0 is what the shop owes a customer.
--
--   voucher_sale      retailer_clearing(shop) +V     voucher_float(voucher) -V
--   voucher_redeem    voucher_float(voucher)  +A     sales -A
--   credit_payment    customer_credit(cust)   +A     sales -A        (a credit hold posted)
--   credit_repayment  voucher_float(voucher)  +A     customer_credit(cust) -A
--   slip_payment      retailer_clearing(ret)  +A     sales -A
--   reversal          sales                   +A     retailer_clearing(ret) -A
--   refund            refunds                 +A     voucher_float | customer_credit | store_credit -A

-- Orders learn how and when they were paid, and how they were cancelled.
ALTER TABLE orders
	ADD COLUMN payment_method text CHECK (payment_method IN ('voucher', 'credit', 'slip')),
	ADD COLUMN paid_at timestamptz,
	ADD COLUMN cancelled_at timestamptz,
	ADD COLUMN cancel_key text UNIQUE;

-- One account per (kind, owner). owner_id is a customer id (customer_credit, store_credit),
-- a voucher id (voucher_float), a retailer id (retailer_clearing; NULL is the shop's own
-- counter, where vouchers are sold) or NULL (sales, refunds).
CREATE TABLE ledger_accounts (
	id          bigserial PRIMARY KEY,
	kind        text NOT NULL CHECK (kind IN ('customer_credit', 'voucher_float', 'retailer_clearing',
	                                          'sales', 'refunds', 'store_credit')),
	owner_id    bigint,
	created_at  timestamptz NOT NULL DEFAULT now(),
	CHECK (CASE kind WHEN 'sales' THEN owner_id IS NULL WHEN 'refunds' THEN owner_id IS NULL
	                 WHEN 'retailer_clearing' THEN true ELSE owner_id IS NOT NULL END),
	UNIQUE NULLS NOT DISTINCT (kind, owner_id)
);
INSERT INTO ledger_accounts (kind, owner_id) VALUES ('sales', NULL), ('refunds', NULL), ('retailer_clearing', NULL);

CREATE TABLE ledger_txns (
	id           bigserial PRIMARY KEY,
	idem_key     text NOT NULL,
	reason       text NOT NULL CHECK (reason IN ('order_payment', 'voucher_sale', 'voucher_redeem',
	                                             'credit_payment', 'credit_repayment', 'slip_payment',
	                                             'reversal', 'refund')),
	order_id     bigint REFERENCES orders(id),
	-- sha256 of the request that caused it: the same key with other content is refused
	content_hash bytea NOT NULL CHECK (length(content_hash) = 32),
	-- the operation's first result, handed back to retries
	result       jsonb,
	created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ledger_txns_idem_key ON ledger_txns (idem_key);
CREATE INDEX ledger_txns_by_order ON ledger_txns (order_id) WHERE order_id IS NOT NULL;

CREATE TABLE ledger_entries (
	id           bigserial PRIMARY KEY,
	txn_id       bigint NOT NULL REFERENCES ledger_txns(id),
	account_id   bigint NOT NULL REFERENCES ledger_accounts(id),
	amount_cents bigint NOT NULL CHECK (amount_cents <> 0)
);
CREATE INDEX ledger_entries_by_txn ON ledger_entries (txn_id);
CREATE INDEX ledger_entries_by_account ON ledger_entries (account_id);

-- The ledger is append-only: a mistake is corrected by a new transaction, never by an edit.
CREATE FUNCTION spaza__ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'the ledger is append-only (% on %)', TG_OP, TG_TABLE_NAME
		USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER ledger_txns_append_only BEFORE UPDATE OR DELETE ON ledger_txns
	FOR EACH ROW EXECUTE FUNCTION spaza__ledger_append_only();
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
	FOR EACH ROW EXECUTE FUNCTION spaza__ledger_append_only();

-- Checked at commit, when all of a transaction's entries are in: they sum to zero, and there
-- are at least two of them.
CREATE FUNCTION spaza__ledger_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	v_txn bigint;
	v_sum bigint;
	v_n integer;
BEGIN
	IF TG_TABLE_NAME = 'ledger_txns' THEN
		v_txn := NEW.id;
	ELSE
		v_txn := NEW.txn_id;
	END IF;
	SELECT coalesce(sum(e.amount_cents), 0), count(*) INTO v_sum, v_n
		FROM ledger_entries e WHERE e.txn_id = v_txn;
	IF v_sum <> 0 OR v_n < 2 THEN
		RAISE EXCEPTION 'ledger transaction % does not balance (% entries summing to %)', v_txn, v_n, v_sum
			USING ERRCODE = 'check_violation';
	END IF;
	RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION spaza__ledger_balanced();
CREATE CONSTRAINT TRIGGER ledger_txns_balanced AFTER INSERT ON ledger_txns
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION spaza__ledger_balanced();

-- Prepaid vouchers. Only an HMAC-SHA256 of the PIN (key 'voucher-pin' from the secrets file)
-- is stored, never the PIN; last4 lets staff find a voucher a customer reads out.
CREATE TABLE vouchers (
	id              bigserial PRIMARY KEY,
	pin_hmac        bytea NOT NULL UNIQUE CHECK (length(pin_hmac) = 32),
	last4           text NOT NULL CHECK (last4 ~ '^[0-9]{4}$'),
	value_cents     bigint NOT NULL CHECK (value_cents > 0),
	remaining_cents bigint NOT NULL CHECK (remaining_cents >= 0),
	status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'redeemed', 'voided')),
	expires_at      timestamptz NOT NULL DEFAULT now() + interval '3 years',
	issued_at       timestamptz NOT NULL DEFAULT now(),
	CHECK (remaining_cents <= value_cents)
);
CREATE INDEX vouchers_by_last4 ON vouchers (last4);

-- Failed PIN entries per customer (customers are keyed by MSISDN): 5 in 24 h lock voucher
-- entry. The key makes a replayed failure count once.
CREATE TABLE voucher_failures (
	id           bigserial PRIMARY KEY,
	customer_id  bigint NOT NULL REFERENCES customers(id),
	idem_key     text NOT NULL UNIQUE,
	request_hash bytea NOT NULL,
	outcome      text NOT NULL,
	at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX voucher_failures_recent ON voucher_failures (customer_id, at);

-- A customer's credit line. used_cents = what is owed + what pending holds reserve; it can
-- never exceed the limit, and every change to it is a single guarded UPDATE of this row.
CREATE TABLE credit_lines (
	customer_id bigint PRIMARY KEY REFERENCES customers(id),
	limit_cents bigint NOT NULL CHECK (limit_cents >= 0),
	used_cents  bigint NOT NULL DEFAULT 0 CHECK (used_cents >= 0),
	updated_at  timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT credit_used_within_limit CHECK (used_cents <= limit_cents)
);

-- Two-phase reservations of credit: pending -> posted | voided | expired.
CREATE TABLE holds (
	id            bigserial PRIMARY KEY,
	kind          text NOT NULL DEFAULT 'credit' CHECK (kind IN ('credit')),
	idem_key      text NOT NULL UNIQUE,
	customer_id   bigint NOT NULL REFERENCES customers(id),
	order_id      bigint NOT NULL REFERENCES orders(id),
	amount_cents  bigint NOT NULL CHECK (amount_cents > 0),
	status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'posted', 'voided', 'expired')),
	expires_at    timestamptz NOT NULL,
	created_at    timestamptz NOT NULL DEFAULT now(),
	resolved_at   timestamptz,
	ledger_txn_id bigint REFERENCES ledger_txns(id),
	CHECK ((status = 'posted') = (ledger_txn_id IS NOT NULL))
);
CREATE UNIQUE INDEX holds_one_pending_per_order ON holds (order_id) WHERE status = 'pending';
CREATE UNIQUE INDEX holds_one_posted_per_order ON holds (order_id) WHERE status = 'posted';
CREATE INDEX holds_pending_by_expiry ON holds (expires_at) WHERE status = 'pending';

-- Barcode payment slips: open -> paid | voided | expired (a reversal reopens a paid one).
-- ref = '9' + 4-digit receiver id + the order number in 9 digits + a Luhn check digit.
CREATE TABLE slips (
	id           bigserial PRIMARY KEY,
	ref          text NOT NULL UNIQUE CHECK (ref ~ '^9[0-9]{14}$'),
	idem_key     text NOT NULL UNIQUE,
	order_id     bigint NOT NULL REFERENCES orders(id),
	receiver_id  integer NOT NULL CHECK (receiver_id BETWEEN 0 AND 9999),
	amount_cents bigint NOT NULL CHECK (amount_cents > 0),
	status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'voided', 'expired')),
	expires_at   timestamptz NOT NULL DEFAULT now() + interval '7 days',
	created_at   timestamptz NOT NULL DEFAULT now(),
	paid_at      timestamptz
);
CREATE INDEX slips_by_order ON slips (order_id);
CREATE INDEX slips_open_by_expiry ON slips (expires_at) WHERE status = 'open';

-- Retailers and their signing keys. The signing secret is HMAC('retailer-master', key_id):
-- derived when needed, never stored. One active key per retailer; rotation revokes the old.
CREATE TABLE retailers (
	id         serial PRIMARY KEY,
	name       text NOT NULL UNIQUE CHECK (name ~ '^[^[:cntrl:]]{1,64}$'),
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE retailer_keys (
	key_id      text PRIMARY KEY CHECK (key_id ~ '^[A-Za-z0-9_-]{8,64}$'),
	retailer_id integer NOT NULL REFERENCES retailers(id),
	created_at  timestamptz NOT NULL DEFAULT now(),
	revoked_at  timestamptz
);
CREATE UNIQUE INDEX retailer_keys_one_active ON retailer_keys (retailer_id) WHERE revoked_at IS NULL;

-- One row per till payment id of a retailer: the payment and, if any, its reversal, with the
-- first response to each so that a till's retry gets exactly that back. A reversal that
-- arrives for a payment we never saw (the till timed out) leaves a row with status
-- 'reversed', amount 0 and no request: the payment, should it arrive late, is refused.
CREATE TABLE till_payments (
	id               bigserial PRIMARY KEY,
	retailer_id      integer NOT NULL REFERENCES retailers(id),
	till_payment_id  text NOT NULL CHECK (till_payment_id ~ '^[[:graph:]]{1,64}$'),
	key_id           text REFERENCES retailer_keys(key_id),
	slip_id          bigint NOT NULL REFERENCES slips(id),
	amount_cents     bigint NOT NULL CHECK (amount_cents >= 0),
	status           text NOT NULL CHECK (status IN ('paid', 'reversed')),
	request_hash     text,
	response         jsonb,
	reverse_response jsonb,
	ledger_txn_id    bigint REFERENCES ledger_txns(id),
	reversal_txn_id  bigint REFERENCES ledger_txns(id),
	created_at       timestamptz NOT NULL DEFAULT now(),
	reversed_at      timestamptz,
	UNIQUE (retailer_id, till_payment_id)
);
CREATE UNIQUE INDEX till_payments_one_paid_per_slip ON till_payments (slip_id) WHERE status = 'paid';

------------------------------------------------------------------------------------------
-- Check digits. The scheme is Luhn mod 10, the same as src/luhn.c (tests prove they agree):
-- from the rightmost payload digit leftwards, every other digit starting with the rightmost
-- is doubled (minus 9 when above 9); the check digit brings the sum to a multiple of 10.

CREATE FUNCTION spaza_luhn_check_digit(p_digits text) RETURNS integer
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
	v_sum integer := 0;
	v_d integer;
	v_double boolean := true;
BEGIN
	IF p_digits !~ '^[0-9]+$' THEN
		RAISE EXCEPTION 'spaza_luhn_check_digit: "%" is not a string of digits', p_digits
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR i IN REVERSE length(p_digits) .. 1 LOOP
		v_d := ascii(substr(p_digits, i, 1)) - 48;
		IF v_double THEN
			v_d := v_d * 2;
			IF v_d > 9 THEN
				v_d := v_d - 9;
			END IF;
		END IF;
		v_sum := v_sum + v_d;
		v_double := NOT v_double;
	END LOOP;
	RETURN (10 - v_sum % 10) % 10;
END $$;

-- The EasyPay-style reference of src/easypay.c: '9', the receiver id in 4 digits, the account
-- (order number) in 9 digits, the Luhn check digit. 15 digits.
CREATE FUNCTION spaza_easypay_ref(p_receiver_id integer, p_account bigint) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
	v_payload text;
BEGIN
	IF p_receiver_id NOT BETWEEN 0 AND 9999 OR p_account NOT BETWEEN 0 AND 999999999 THEN
		RAISE EXCEPTION 'spaza_easypay_ref: receiver % / account % out of range', p_receiver_id, p_account
			USING ERRCODE = 'numeric_value_out_of_range';
	END IF;
	v_payload := '9' || lpad(p_receiver_id::text, 4, '0') || lpad(p_account::text, 9, '0');
	RETURN v_payload || spaza_luhn_check_digit(v_payload)::text;
END $$;

------------------------------------------------------------------------------------------
-- Internal helpers (spaza__*): not for callers outside this file.

-- Serialise every call that carries the same idempotency key. Two-key advisory locks live
-- apart from the one-key lock that migrations take.
CREATE FUNCTION spaza__lock_key(p_key text) RETURNS void LANGUAGE sql AS $$
	SELECT pg_advisory_xact_lock(1397768537, hashtext(p_key));
$$;

CREATE FUNCTION spaza__hash(VARIADIC p_parts text[]) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
	SELECT sha256(convert_to(array_to_string(p_parts, '|', '<null>'), 'UTF8'));
$$;

-- The account for (kind, owner), created on first use.
CREATE FUNCTION spaza__account(p_kind text, p_owner bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	v_id bigint;
BEGIN
	SELECT a.id INTO v_id FROM ledger_accounts a WHERE a.kind = p_kind AND a.owner_id IS NOT DISTINCT FROM p_owner;
	IF v_id IS NULL THEN
		INSERT INTO ledger_accounts (kind, owner_id) VALUES (p_kind, p_owner)
			ON CONFLICT (kind, owner_id) DO NOTHING RETURNING id INTO v_id;
		IF v_id IS NULL THEN	-- a concurrent call created it first
			SELECT a.id INTO v_id FROM ledger_accounts a
				WHERE a.kind = p_kind AND a.owner_id IS NOT DISTINCT FROM p_owner;
		END IF;
	END IF;
	RETURN v_id;
END $$;

-- Post one ledger transaction. The key is unique: the same key with the same content returns
-- the transaction already posted; with other content it raises (callers check for their own
-- key first and answer 'conflict', so reaching that is a bug). The deferred trigger checks
-- the balance at commit.
CREATE FUNCTION spaza__post(p_key text, p_reason text, p_order_id bigint, p_hash bytea, p_result jsonb,
			    p_accounts bigint[], p_amounts bigint[]) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	v_id bigint;
	v_hash bytea;
BEGIN
	INSERT INTO ledger_txns (idem_key, reason, order_id, content_hash, result)
		VALUES (p_key, p_reason, p_order_id, p_hash, p_result)
		ON CONFLICT (idem_key) DO NOTHING RETURNING id INTO v_id;
	IF v_id IS NULL THEN
		SELECT t.id, t.content_hash INTO v_id, v_hash FROM ledger_txns t WHERE t.idem_key = p_key;
		IF v_hash <> p_hash THEN
			RAISE EXCEPTION 'idempotency key "%" reused with different content', p_key
				USING ERRCODE = 'unique_violation';
		END IF;
		RETURN v_id;
	END IF;
	INSERT INTO ledger_entries (txn_id, account_id, amount_cents)
		SELECT v_id, u.acc, u.amt FROM unnest(p_accounts, p_amounts) AS u(acc, amt);
	RETURN v_id;
END $$;

-- End a pending credit hold without posting it and give its credit back. The caller holds
-- the order's row lock. Returns whether there was a pending hold to end.
CREATE FUNCTION spaza__hold_release(p_hold_id bigint, p_status text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	v_customer bigint;
	v_amount bigint;
BEGIN
	UPDATE holds h SET status = p_status, resolved_at = now()
		WHERE h.id = p_hold_id AND h.status = 'pending'
		RETURNING h.customer_id, h.amount_cents INTO v_customer, v_amount;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	UPDATE credit_lines c SET used_cents = c.used_cents - v_amount, updated_at = now()
		WHERE c.customer_id = v_customer;
	RETURN true;
END $$;

-- The order (row-locked by the caller) is paid: record how, and void every other way it was
-- about to be paid (a pending credit hold, an open slip) so it can never be paid twice.
CREATE FUNCTION spaza__order_settle(p_order_id bigint, p_method text, p_keep_hold bigint, p_keep_slip bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	v_hold bigint;
BEGIN
	UPDATE orders o SET status = 'paid', payment_method = p_method, paid_at = now(), updated_at = now()
		WHERE o.id = p_order_id;
	FOR v_hold IN SELECT h.id FROM holds h WHERE h.order_id = p_order_id AND h.status = 'pending'
			AND h.id IS DISTINCT FROM p_keep_hold ORDER BY h.id LOOP
		PERFORM spaza__hold_release(v_hold, 'voided');
	END LOOP;
	UPDATE slips s SET status = 'voided' WHERE s.order_id = p_order_id AND s.status = 'open'
		AND s.id IS DISTINCT FROM p_keep_slip;
END $$;

-- Voucher entry is locked for a customer with 5 failed PINs in the last 24 hours.
CREATE FUNCTION spaza__voucher_locked(p_customer_id bigint) RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT count(*) >= 5 FROM voucher_failures f
		WHERE f.customer_id = p_customer_id AND f.at > now() - interval '24 hours';
$$;

------------------------------------------------------------------------------------------
-- Vouchers

-- Issue vouchers sold at the shop's counter: one voucher_sale per voucher. The PINs
-- themselves never reach the database; the HMACs arrive hex-encoded.
-- Returns how many were issued and the ids of the first and last.
CREATE FUNCTION spaza_voucher_issue(p_pin_hmacs_hex text[], p_last4s text[], p_value_cents bigint,
				    p_expires_at timestamptz,
				    OUT issued integer, OUT first_id bigint, OUT last_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_id bigint;
	v_float bigint;
	v_shop bigint := spaza__account('retailer_clearing', NULL);
BEGIN
	issued := 0;
	IF coalesce(array_length(p_pin_hmacs_hex, 1), 0) <> coalesce(array_length(p_last4s, 1), 0) THEN
		RAISE EXCEPTION 'spaza_voucher_issue: % HMACs but % last4s', array_length(p_pin_hmacs_hex, 1),
			array_length(p_last4s, 1) USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR i IN 1 .. coalesce(array_length(p_pin_hmacs_hex, 1), 0) LOOP
		INSERT INTO vouchers (pin_hmac, last4, value_cents, remaining_cents, expires_at)
			VALUES (decode(p_pin_hmacs_hex[i], 'hex'), p_last4s[i], p_value_cents, p_value_cents,
				coalesce(p_expires_at, now() + interval '3 years'))
			RETURNING id INTO v_id;
		v_float := spaza__account('voucher_float', v_id);
		PERFORM spaza__post('spaza:voucher_sale:' || v_id, 'voucher_sale', NULL,
				    spaza__hash('voucher_sale', v_id::text, p_value_cents::text), NULL,
				    ARRAY[v_shop, v_float], ARRAY[p_value_cents, -p_value_cents]);
		first_id := coalesce(first_id, v_id);
		last_id := v_id;
		issued := issued + 1;
	END LOOP;
END $$;

-- Pay an order from a voucher.
-- outcome: paid          paid_cents taken, remaining_cents left on the voucher
--          invalid       no such PIN (counts towards the lockout)
--          expired       the voucher has expired (remaining_cents shows what is stranded)
--          locked        5 failed PINs in 24 h: nothing was looked up
--          insufficient  the order costs more than remaining_cents
--          not_payable   no such order, not this customer's, or not awaiting payment
--          conflict      the key was used before for another request
CREATE FUNCTION spaza_voucher_redeem(p_idem_key text, p_pin_hmac bytea, p_customer_id bigint, p_order_id bigint,
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
	v_total := v_order.total_cents;

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

------------------------------------------------------------------------------------------
-- Credit lines

-- Set a customer's credit limit (creating the line). outcome: ok | below_used (the customer
-- already uses more than the new limit; nothing changed). used_cents is what is in use.
CREATE FUNCTION spaza_credit_set_limit(p_customer_id bigint, p_limit_cents bigint,
				       OUT outcome text, OUT used_cents bigint)
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO credit_lines AS c (customer_id, limit_cents) VALUES (p_customer_id, p_limit_cents)
		ON CONFLICT (customer_id) DO UPDATE SET limit_cents = EXCLUDED.limit_cents, updated_at = now()
		WHERE c.used_cents <= EXCLUDED.limit_cents
		RETURNING c.used_cents INTO used_cents;
	IF FOUND THEN
		outcome := 'ok';
	ELSE
		outcome := 'below_used';
		SELECT c.used_cents INTO used_cents FROM credit_lines c WHERE c.customer_id = p_customer_id;
	END IF;
END $$;

-- Reserve the order's total on the customer's credit line (at confirm). The hold lapses
-- after p_ttl unless spaza_credit_post() posts it.
-- outcome: ok           hold_id reserves amount_cents; available_cents is what is left
--          over_limit   the order does not fit: available_cents is what would (0 with no line)
--          not_payable  no such order, not this customer's, or not awaiting payment
--          conflict     the key was used before for another request
-- A second hold for the same order returns the pending one.
CREATE FUNCTION spaza_credit_hold(p_idem_key text, p_customer_id bigint, p_order_id bigint,
				  p_ttl interval DEFAULT interval '15 minutes',
				  OUT outcome text, OUT hold_id bigint, OUT amount_cents bigint,
				  OUT available_cents bigint, OUT limit_cents bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_hold holds%ROWTYPE;
	v_order orders%ROWTYPE;
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
		-- The guarded UPDATE is the whole concurrency story: a concurrent hold waits for the
		-- row and re-checks the condition against what the first one left.
		UPDATE credit_lines c SET used_cents = c.used_cents + v_order.total_cents, updated_at = now()
			WHERE c.customer_id = p_customer_id AND c.used_cents + v_order.total_cents <= c.limit_cents;
		IF FOUND THEN
			INSERT INTO holds (idem_key, customer_id, order_id, amount_cents, expires_at)
				VALUES (p_idem_key, p_customer_id, p_order_id, v_order.total_cents, now() + p_ttl)
				RETURNING id INTO hold_id;
			outcome := 'ok';
			amount_cents := v_order.total_cents;
		ELSE
			outcome := 'over_limit';
			amount_cents := v_order.total_cents;
		END IF;
	END IF;
	SELECT c.limit_cents, c.limit_cents - c.used_cents INTO limit_cents, available_cents
		FROM credit_lines c WHERE c.customer_id = p_customer_id;
	limit_cents := coalesce(limit_cents, 0);
	available_cents := coalesce(available_cents, 0);
END $$;

-- Post the order's pending credit hold (when the order is accepted): the customer now owes
-- it, the order is paid.
-- outcome: posted       amount_cents posted (also for a repeat after it was posted)
--          no_hold      the order has no pending hold (voided, expired, never made)
--          expired      the hold had lapsed; it is released now and the order stays unpaid
--          not_payable  the order is not awaiting payment any more; the hold is voided
--          not_found    no such order
CREATE FUNCTION spaza_credit_post(p_order_id bigint, OUT outcome text, OUT amount_cents bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_order orders%ROWTYPE;
	v_hold holds%ROWTYPE;
	v_txn bigint;
BEGIN
	amount_cents := 0;
	SELECT * INTO v_order FROM orders o WHERE o.id = p_order_id FOR UPDATE;
	IF NOT FOUND THEN
		outcome := 'not_found';
		RETURN;
	END IF;
	SELECT * INTO v_hold FROM holds h WHERE h.order_id = p_order_id AND h.status = 'pending' FOR UPDATE;
	IF NOT FOUND THEN
		SELECT * INTO v_hold FROM holds h WHERE h.order_id = p_order_id AND h.status = 'posted';
		IF FOUND THEN
			outcome := 'posted';
			amount_cents := v_hold.amount_cents;
		ELSE
			outcome := 'no_hold';
		END IF;
		RETURN;
	END IF;
	amount_cents := v_hold.amount_cents;
	IF v_hold.expires_at <= now() THEN
		PERFORM spaza__hold_release(v_hold.id, 'expired');
		outcome := 'expired';
		RETURN;
	END IF;
	IF v_order.status <> 'awaiting_payment' THEN
		PERFORM spaza__hold_release(v_hold.id, 'voided');
		outcome := 'not_payable';
		RETURN;
	END IF;
	v_txn := spaza__post('spaza:credit_post:' || v_hold.id, 'credit_payment', p_order_id,
			     spaza__hash('credit_post', v_hold.id::text),
			     jsonb_build_object('outcome', 'posted', 'amount_cents', v_hold.amount_cents, 'hold_id', v_hold.id),
			     ARRAY[spaza__account('customer_credit', v_hold.customer_id), spaza__account('sales', NULL)],
			     ARRAY[v_hold.amount_cents, -v_hold.amount_cents]);
	UPDATE holds h SET status = 'posted', ledger_txn_id = v_txn, resolved_at = now() WHERE h.id = v_hold.id;
	PERFORM spaza__order_settle(p_order_id, 'credit', v_hold.id, NULL);
	outcome := 'posted';
END $$;

-- A customer's credit line and store credit: used = owed + held; available = limit - used.
-- All zero for a customer without a line.
CREATE FUNCTION spaza_credit_balance(p_customer_id bigint,
				     OUT limit_cents bigint, OUT used_cents bigint, OUT held_cents bigint,
				     OUT owed_cents bigint, OUT available_cents bigint, OUT store_credit_cents bigint)
LANGUAGE plpgsql STABLE AS $$
BEGIN
	SELECT c.limit_cents, c.used_cents INTO limit_cents, used_cents
		FROM credit_lines c WHERE c.customer_id = p_customer_id;
	limit_cents := coalesce(limit_cents, 0);
	used_cents := coalesce(used_cents, 0);
	SELECT coalesce(sum(h.amount_cents), 0) INTO held_cents
		FROM holds h WHERE h.customer_id = p_customer_id AND h.status = 'pending';
	owed_cents := used_cents - held_cents;
	available_cents := limit_cents - used_cents;
	SELECT coalesce(-sum(e.amount_cents), 0) INTO store_credit_cents
		FROM ledger_accounts a JOIN ledger_entries e ON e.account_id = a.id
		WHERE a.kind = 'store_credit' AND a.owner_id = p_customer_id;
END $$;

-- Repay what a customer owes on their credit line from a voucher: as much as the voucher
-- holds, at most what is owed (pending holds are not debt yet).
-- outcome: repaid        repaid_cents paid off, remaining_cents left on the voucher, owed_cents still owed
--          nothing_owed  no debt to repay (owed_cents 0)
--          invalid | expired | locked | insufficient (the voucher is empty) | conflict: as for
--          spaza_voucher_redeem()
CREATE FUNCTION spaza_credit_repay(p_idem_key text, p_customer_id bigint, p_pin_hmac bytea,
				   OUT outcome text, OUT repaid_cents bigint, OUT remaining_cents bigint,
				   OUT owed_cents bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_hash bytea := spaza__hash('credit_repay', encode(p_pin_hmac, 'hex'), p_customer_id::text);
	v_txn ledger_txns%ROWTYPE;
	v_fail voucher_failures%ROWTYPE;
	v_voucher vouchers%ROWTYPE;
	v_used bigint;
	v_held bigint;
	v_amount bigint;
BEGIN
	repaid_cents := 0;
	remaining_cents := 0;
	owed_cents := 0;
	PERFORM spaza__lock_key(p_idem_key);
	SELECT * INTO v_txn FROM ledger_txns t WHERE t.idem_key = p_idem_key;
	IF FOUND THEN
		IF v_txn.content_hash <> v_hash THEN
			outcome := 'conflict';
		ELSE
			outcome := v_txn.result->>'outcome';
			repaid_cents := (v_txn.result->>'repaid_cents')::bigint;
			remaining_cents := (v_txn.result->>'remaining_cents')::bigint;
			owed_cents := (v_txn.result->>'owed_cents')::bigint;
		END IF;
		RETURN;
	END IF;
	SELECT * INTO v_fail FROM voucher_failures f WHERE f.idem_key = p_idem_key;
	IF FOUND THEN
		outcome := CASE WHEN v_fail.request_hash = v_hash THEN v_fail.outcome ELSE 'conflict' END;
		RETURN;
	END IF;
	PERFORM 1 FROM customers c WHERE c.id = p_customer_id FOR NO KEY UPDATE;
	IF NOT FOUND THEN
		outcome := 'nothing_owed';
		RETURN;
	END IF;
	IF spaza__voucher_locked(p_customer_id) THEN
		outcome := 'locked';
		RETURN;
	END IF;

	SELECT * INTO v_voucher FROM vouchers v WHERE v.pin_hmac = p_pin_hmac FOR UPDATE;
	IF NOT FOUND OR v_voucher.status = 'voided' THEN
		INSERT INTO voucher_failures (customer_id, idem_key, request_hash, outcome)
			VALUES (p_customer_id, p_idem_key, v_hash, 'invalid');
		outcome := 'invalid';
		RETURN;
	END IF;
	remaining_cents := v_voucher.remaining_cents;
	SELECT c.used_cents INTO v_used FROM credit_lines c WHERE c.customer_id = p_customer_id FOR UPDATE;
	SELECT coalesce(sum(h.amount_cents), 0) INTO v_held
		FROM holds h WHERE h.customer_id = p_customer_id AND h.status = 'pending';
	owed_cents := coalesce(v_used, 0) - v_held;
	IF v_voucher.expires_at <= now() THEN
		outcome := 'expired';
		RETURN;
	END IF;
	IF owed_cents <= 0 THEN
		owed_cents := 0;
		outcome := 'nothing_owed';
		RETURN;
	END IF;
	IF v_voucher.remaining_cents = 0 THEN
		outcome := 'insufficient';
		RETURN;
	END IF;

	v_amount := least(v_voucher.remaining_cents, owed_cents);
	outcome := 'repaid';
	repaid_cents := v_amount;
	remaining_cents := v_voucher.remaining_cents - v_amount;
	owed_cents := owed_cents - v_amount;
	UPDATE vouchers v SET remaining_cents = v.remaining_cents - v_amount,
		status = CASE WHEN v.remaining_cents = v_amount THEN 'redeemed' ELSE 'active' END
		WHERE v.id = v_voucher.id;
	UPDATE credit_lines c SET used_cents = c.used_cents - v_amount, updated_at = now()
		WHERE c.customer_id = p_customer_id;
	PERFORM spaza__post(p_idem_key, 'credit_repayment', NULL, v_hash,
			    jsonb_build_object('outcome', outcome, 'repaid_cents', repaid_cents,
					       'remaining_cents', remaining_cents, 'owed_cents', owed_cents,
					       'voucher_id', v_voucher.id),
			    ARRAY[spaza__account('voucher_float', v_voucher.id),
				  spaza__account('customer_credit', p_customer_id)],
			    ARRAY[v_amount, -v_amount]);
END $$;

------------------------------------------------------------------------------------------
-- Barcode payment slips and retailers' tills

-- A slip for the amount due on an order. Asking again for the same order returns the same
-- slip (a lapsed one is reopened with a fresh expiry).
-- outcome: created      slip_ref (15 digits, see spaza_easypay_ref), amount_cents, expires_at
--          not_payable  no such order, or not awaiting payment
--          conflict     the key was used before for another order
CREATE FUNCTION spaza_slip_create(p_idem_key text, p_order_id bigint, p_receiver_id integer,
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
		IF v_slip.status <> 'open' OR v_slip.expires_at <= now() THEN
			UPDATE slips s SET status = 'open', expires_at = now() + p_ttl, amount_cents = v_order.total_cents
				WHERE s.id = v_slip.id RETURNING * INTO v_slip;
		END IF;
	ELSE
		INSERT INTO slips (ref, idem_key, order_id, receiver_id, amount_cents, expires_at)
			VALUES (v_ref, p_idem_key, p_order_id, p_receiver_id, v_order.total_cents, now() + p_ttl)
			RETURNING * INTO v_slip;
	END IF;
	outcome := 'created';
	slip_ref := v_slip.ref;
	amount_cents := v_slip.amount_cents;
	expires_at := v_slip.expires_at;
END $$;

-- What a till sees when it looks a slip up (GET /api/v1/slips/{ref}). Spaces in the
-- reference (the grouped form) are ignored. status: open | paid | voided | expired
-- (an open slip past its expiry reads expired); no row when there is no such slip.
CREATE FUNCTION spaza_slip_lookup(p_ref text)
RETURNS TABLE (slip_ref text, status text, amount_cents bigint, expires_at timestamptz, order_id bigint,
	       order_status text)
LANGUAGE sql STABLE AS $$
	SELECT s.ref, CASE WHEN s.status = 'open' AND s.expires_at <= now() THEN 'expired' ELSE s.status END,
	       s.amount_cents, s.expires_at, s.order_id, o.status
	FROM slips s JOIN orders o ON o.id = s.order_id
	WHERE s.ref = regexp_replace(p_ref, '\s', '', 'g');
$$;

-- The retailer an active key id belongs to (no row for an unknown or revoked key). The
-- signing secret is HMAC-SHA256(secret 'retailer-master', key_id), computed by the caller.
CREATE FUNCTION spaza_retailer_by_key(p_key_id text)
RETURNS TABLE (retailer_id integer, retailer_name text)
LANGUAGE sql STABLE AS $$
	SELECT r.id, r.name FROM retailer_keys k JOIN retailers r ON r.id = k.retailer_id
	WHERE k.key_id = p_key_id AND k.revoked_at IS NULL;
$$;

-- A response row for a till: the outcome and what the till needs to print or retry with.
CREATE FUNCTION spaza__till_response(p_outcome text, p_ref text, p_till_payment_id text, p_order_id bigint,
				     p_amount_cents bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_strip_nulls(jsonb_build_object('outcome', p_outcome, 'ref', p_ref, 'payment_id', p_till_payment_id,
						    'order', p_order_id, 'amount_cents', p_amount_cents,
						    'at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')));
$$;

-- A till confirms a cash payment against a slip (POST /api/v1/slips/{ref}/payments).
-- p_till_payment_id is the till's own id for the payment, unique per retailer; p_request_hash
-- identifies the request's content (say, hex sha256 of the body).
-- outcome: paid          the order is paid (a repeat with the same id and request returns the
--                        first response, unchanged)
--          unknown_key   the key id is unknown or revoked
--          conflict      this payment id was used before with a different request
--          reversed      this payment id was reversed: it can never be confirmed again
--          unknown_slip  no such reference
--          expired       the slip has expired
--          wrong_amount  the amount is not the amount due (amount_cents says what is)
--          already_paid  the slip was paid by another payment
--          not_payable   the order is no longer awaiting payment (paid otherwise, cancelled)
-- response is the JSON body for the till; refusals are not stored, so a retry is judged afresh.
CREATE FUNCTION spaza_slip_pay(p_key_id text, p_till_payment_id text, p_ref text, p_amount_cents bigint,
			       p_request_hash text,
			       OUT outcome text, OUT order_id bigint, OUT amount_cents bigint, OUT response jsonb)
LANGUAGE plpgsql AS $$
DECLARE
	v_retailer integer;
	v_ref text := regexp_replace(p_ref, '\s', '', 'g');
	v_tp till_payments%ROWTYPE;
	v_slip slips%ROWTYPE;
	v_order orders%ROWTYPE;
	v_tp_id bigint;
	v_txn bigint;
BEGIN
	SELECT k.retailer_id INTO v_retailer FROM retailer_keys k WHERE k.key_id = p_key_id AND k.revoked_at IS NULL;
	IF NOT FOUND THEN
		outcome := 'unknown_key';
		response := spaza__till_response(outcome, v_ref, p_till_payment_id, NULL, NULL);
		RETURN;
	END IF;
	PERFORM spaza__lock_key('till:' || v_retailer || ':' || p_till_payment_id);
	SELECT * INTO v_tp FROM till_payments t WHERE t.retailer_id = v_retailer AND t.till_payment_id = p_till_payment_id;
	IF FOUND THEN
		SELECT s.order_id INTO order_id FROM slips s WHERE s.id = v_tp.slip_id;
		amount_cents := v_tp.amount_cents;
		IF v_tp.status = 'reversed' THEN
			outcome := 'reversed';
			response := spaza__till_response(outcome, v_ref, p_till_payment_id, order_id, amount_cents);
		ELSIF v_tp.request_hash IS DISTINCT FROM p_request_hash THEN
			outcome := 'conflict';
			response := spaza__till_response(outcome, v_ref, p_till_payment_id, NULL, NULL);
		ELSE
			response := v_tp.response;
			outcome := response->>'outcome';
		END IF;
		RETURN;
	END IF;

	SELECT * INTO v_slip FROM slips s WHERE s.ref = v_ref;
	IF NOT FOUND THEN
		outcome := 'unknown_slip';
		response := spaza__till_response(outcome, v_ref, p_till_payment_id, NULL, NULL);
		RETURN;
	END IF;
	-- Order first, then slip: the order everything else locks in.
	SELECT * INTO v_order FROM orders o WHERE o.id = v_slip.order_id FOR UPDATE;
	SELECT * INTO v_slip FROM slips s WHERE s.id = v_slip.id FOR UPDATE;
	order_id := v_order.id;
	amount_cents := v_slip.amount_cents;
	IF v_slip.status = 'paid' THEN
		outcome := 'already_paid';
	ELSIF v_slip.status = 'expired' OR (v_slip.status = 'open' AND v_slip.expires_at <= now()) THEN
		outcome := 'expired';
	ELSIF v_slip.status <> 'open' OR v_order.status <> 'awaiting_payment' THEN
		outcome := 'not_payable';
	ELSIF p_amount_cents IS DISTINCT FROM v_slip.amount_cents THEN
		outcome := 'wrong_amount';
	END IF;
	IF outcome IS NOT NULL THEN
		response := spaza__till_response(outcome, v_ref, p_till_payment_id, order_id, amount_cents);
		RETURN;
	END IF;

	outcome := 'paid';
	response := spaza__till_response(outcome, v_ref, p_till_payment_id, order_id, amount_cents);
	INSERT INTO till_payments (retailer_id, till_payment_id, key_id, slip_id, amount_cents, status, request_hash, response)
		VALUES (v_retailer, p_till_payment_id, p_key_id, v_slip.id, v_slip.amount_cents, 'paid', p_request_hash, response)
		RETURNING id INTO v_tp_id;
	v_txn := spaza__post('spaza:slip_pay:' || v_tp_id, 'slip_payment', v_order.id,
			     spaza__hash('slip_pay', v_retailer::text, p_till_payment_id, p_request_hash), response,
			     ARRAY[spaza__account('retailer_clearing', v_retailer), spaza__account('sales', NULL)],
			     ARRAY[v_slip.amount_cents, -v_slip.amount_cents]);
	UPDATE till_payments t SET ledger_txn_id = v_txn WHERE t.id = v_tp_id;
	UPDATE slips s SET status = 'paid', paid_at = now() WHERE s.id = v_slip.id;
	PERFORM spaza__order_settle(v_order.id, 'slip', NULL, v_slip.id);
END $$;

-- A till reverses a payment (POST /api/v1/slips/{ref}/payments/{id}/reversal), allowed until
-- the order ships. The order goes back to awaiting payment and its slip reopens (unless it
-- has expired). A reversal of a payment id never seen (the till timed out on the payment)
-- is recorded so that the payment, should it arrive late, is refused; it needs p_ref.
-- outcome: reversed         done (a repeat returns the first response)
--          unknown_key      the key id is unknown or revoked
--          unknown_payment  no such payment id for this retailer, and no reference given
--          unknown_slip     no such reference
--          wrong_slip       the payment id belongs to another slip
--          paid_by_other    the slip is paid by another payment: this reversal is refused
--          shipped          the order has shipped: too late to reverse
--          not_reversible   the order was cancelled (and refunded) meanwhile
CREATE FUNCTION spaza_slip_reverse(p_key_id text, p_till_payment_id text, p_ref text DEFAULT NULL,
				   OUT outcome text, OUT order_id bigint, OUT amount_cents bigint, OUT response jsonb)
LANGUAGE plpgsql AS $$
DECLARE
	v_retailer integer;
	v_ref text := regexp_replace(p_ref, '\s', '', 'g');
	v_tp till_payments%ROWTYPE;
	v_slip slips%ROWTYPE;
	v_order orders%ROWTYPE;
	v_txn bigint;
BEGIN
	amount_cents := 0;
	SELECT k.retailer_id INTO v_retailer FROM retailer_keys k WHERE k.key_id = p_key_id AND k.revoked_at IS NULL;
	IF NOT FOUND THEN
		outcome := 'unknown_key';
		response := spaza__till_response(outcome, v_ref, p_till_payment_id, NULL, NULL);
		RETURN;
	END IF;
	PERFORM spaza__lock_key('till:' || v_retailer || ':' || p_till_payment_id);
	SELECT * INTO v_tp FROM till_payments t WHERE t.retailer_id = v_retailer AND t.till_payment_id = p_till_payment_id;
	IF FOUND THEN
		SELECT * INTO v_slip FROM slips s WHERE s.id = v_tp.slip_id;
	ELSIF v_ref IS NULL THEN
		outcome := 'unknown_payment';
	ELSE
		SELECT * INTO v_slip FROM slips s WHERE s.ref = v_ref;
		IF NOT FOUND THEN
			outcome := 'unknown_slip';
		END IF;
	END IF;
	IF outcome IS NULL AND v_ref IS NOT NULL AND v_ref <> v_slip.ref THEN
		outcome := 'wrong_slip';
	END IF;
	IF outcome IS NULL AND v_tp.status = 'reversed' THEN
		outcome := 'reversed';
		order_id := v_slip.order_id;
		amount_cents := v_tp.amount_cents;
		response := v_tp.reverse_response;
		RETURN;
	END IF;
	IF outcome IS NOT NULL THEN
		response := spaza__till_response(outcome, v_ref, p_till_payment_id, NULL, NULL);
		RETURN;
	END IF;

	SELECT * INTO v_order FROM orders o WHERE o.id = v_slip.order_id FOR UPDATE;
	SELECT * INTO v_slip FROM slips s WHERE s.id = v_slip.id FOR UPDATE;
	order_id := v_order.id;
	IF v_tp.id IS NULL THEN
		-- Never saw this payment: burn its id, unless the slip is paid by another one.
		IF v_slip.status = 'paid' THEN
			outcome := 'paid_by_other';
			response := spaza__till_response(outcome, v_slip.ref, p_till_payment_id, order_id, NULL);
			RETURN;
		END IF;
		outcome := 'reversed';
		response := spaza__till_response(outcome, v_slip.ref, p_till_payment_id, order_id, 0);
		INSERT INTO till_payments (retailer_id, till_payment_id, key_id, slip_id, amount_cents, status,
					   reverse_response, reversed_at)
			VALUES (v_retailer, p_till_payment_id, p_key_id, v_slip.id, 0, 'reversed', response, now());
		RETURN;
	END IF;

	amount_cents := v_tp.amount_cents;
	IF v_order.status IN ('shipped', 'delivered') THEN
		outcome := 'shipped';
	ELSIF v_order.status <> 'paid' OR v_order.payment_method IS DISTINCT FROM 'slip' THEN
		outcome := 'not_reversible';
	END IF;
	IF outcome IS NOT NULL THEN
		response := spaza__till_response(outcome, v_slip.ref, p_till_payment_id, order_id, amount_cents);
		RETURN;
	END IF;

	outcome := 'reversed';
	response := spaza__till_response(outcome, v_slip.ref, p_till_payment_id, order_id, amount_cents);
	v_txn := spaza__post('spaza:slip_reverse:' || v_tp.id, 'reversal', v_order.id,
			     spaza__hash('slip_reverse', v_tp.id::text), response,
			     ARRAY[spaza__account('sales', NULL), spaza__account('retailer_clearing', v_retailer)],
			     ARRAY[v_tp.amount_cents, -v_tp.amount_cents]);
	UPDATE till_payments t SET status = 'reversed', reversal_txn_id = v_txn, reversed_at = now(),
		reverse_response = spaza_slip_reverse.response WHERE t.id = v_tp.id;
	UPDATE slips s SET status = CASE WHEN s.expires_at > now() THEN 'open' ELSE 'expired' END, paid_at = NULL
		WHERE s.id = v_slip.id;
	UPDATE orders o SET status = 'awaiting_payment', payment_method = NULL, paid_at = NULL, updated_at = now()
		WHERE o.id = v_order.id;
END $$;

------------------------------------------------------------------------------------------
-- Cancellations, refunds, expiry

-- Cancel an order. Unpaid: its pending holds and open slips are voided. Paid: the money goes
-- back where it came from, once: a voucher payment to the voucher's remainder (store credit
-- if the voucher has expired meanwhile), a credit payment to the credit line (any part the
-- customer already repaid becomes store credit), a cash (slip) payment to store credit.
-- The order's units go back into stock.
-- outcome: cancelled        it was unpaid; nothing to refund
--          refunded         refund_cents went to refund_to: voucher (voucher_id names it) |
--                           credit | store_credit | credit_and_store_credit (the part the
--                           customer had already repaid became store credit)
--          not_found        no such order
--          not_cancellable  it has shipped or been delivered
--          conflict         the key was used to cancel another order
-- Cancelling again returns the first result.
CREATE FUNCTION spaza_order_cancel(p_order_id bigint, p_idem_key text,
				   OUT outcome text, OUT refund_cents bigint, OUT refund_to text, OUT voucher_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_order orders%ROWTYPE;
	v_txn ledger_txns%ROWTYPE;
	v_hold bigint;
	v_amount bigint;
	v_voucher vouchers%ROWTYPE;
	v_used bigint;
	v_held bigint;
	v_to_credit bigint;
	v_accounts bigint[];
	v_amounts bigint[];
BEGIN
	refund_cents := 0;
	PERFORM spaza__lock_key(p_idem_key);
	IF EXISTS (SELECT 1 FROM orders o WHERE o.cancel_key = p_idem_key AND o.id <> p_order_id) THEN
		outcome := 'conflict';
		RETURN;
	END IF;
	SELECT * INTO v_order FROM orders o WHERE o.id = p_order_id FOR UPDATE;
	IF NOT FOUND THEN
		outcome := 'not_found';
		RETURN;
	END IF;
	IF v_order.status = 'cancelled' THEN
		SELECT * INTO v_txn FROM ledger_txns t WHERE t.idem_key = 'spaza:refund:' || p_order_id;
		IF FOUND THEN
			outcome := v_txn.result->>'outcome';
			refund_cents := (v_txn.result->>'refund_cents')::bigint;
			refund_to := v_txn.result->>'refund_to';
			voucher_id := (v_txn.result->>'voucher_id')::bigint;
		ELSE
			outcome := 'cancelled';
		END IF;
		RETURN;
	END IF;
	IF v_order.status IN ('shipped', 'delivered') THEN
		outcome := 'not_cancellable';
		RETURN;
	END IF;

	IF v_order.status = 'awaiting_payment' OR v_order.payment_method IS NULL THEN
		outcome := 'cancelled';
	ELSE
		outcome := 'refunded';
		v_amount := v_order.total_cents;
		refund_cents := v_amount;
		IF v_order.payment_method = 'voucher' THEN
			SELECT * INTO v_voucher FROM vouchers v WHERE v.id =
				(SELECT (t.result->>'voucher_id')::bigint FROM ledger_txns t
				 WHERE t.order_id = p_order_id AND t.reason = 'voucher_redeem' ORDER BY t.id DESC LIMIT 1)
				FOR UPDATE;
			IF FOUND AND v_voucher.expires_at > now() AND v_voucher.status <> 'voided' THEN
				refund_to := 'voucher';
				voucher_id := v_voucher.id;
				UPDATE vouchers v SET remaining_cents = v.remaining_cents + v_amount, status = 'active'
					WHERE v.id = v_voucher.id;
				v_accounts := ARRAY[spaza__account('refunds', NULL), spaza__account('voucher_float', v_voucher.id)];
				v_amounts := ARRAY[v_amount, -v_amount];
			END IF;
		ELSIF v_order.payment_method = 'credit' THEN
			SELECT c.used_cents INTO v_used FROM credit_lines c WHERE c.customer_id = v_order.customer_id FOR UPDATE;
			SELECT coalesce(sum(h.amount_cents), 0) INTO v_held
				FROM holds h WHERE h.customer_id = v_order.customer_id AND h.status = 'pending';
			v_to_credit := greatest(least(v_amount, coalesce(v_used, 0) - v_held), 0);
			refund_to := CASE v_to_credit WHEN v_amount THEN 'credit' WHEN 0 THEN 'store_credit'
				     ELSE 'credit_and_store_credit' END;
			UPDATE credit_lines c SET used_cents = c.used_cents - v_to_credit, updated_at = now()
				WHERE c.customer_id = v_order.customer_id;
			v_accounts := ARRAY[spaza__account('refunds', NULL)];
			v_amounts := ARRAY[v_amount];
			IF v_to_credit > 0 THEN
				v_accounts := v_accounts || spaza__account('customer_credit', v_order.customer_id);
				v_amounts := v_amounts || -v_to_credit;
			END IF;
			IF v_to_credit < v_amount THEN
				v_accounts := v_accounts || spaza__account('store_credit', v_order.customer_id);
				v_amounts := v_amounts || (v_to_credit - v_amount);
			END IF;
		END IF;
		IF v_accounts IS NULL THEN	-- cash, or a voucher that can no longer take it back
			refund_to := 'store_credit';
			v_accounts := ARRAY[spaza__account('refunds', NULL), spaza__account('store_credit', v_order.customer_id)];
			v_amounts := ARRAY[v_amount, -v_amount];
		END IF;
		PERFORM spaza__post('spaza:refund:' || p_order_id, 'refund', p_order_id,
				    spaza__hash('refund', p_order_id::text),
				    jsonb_build_object('outcome', outcome, 'refund_cents', refund_cents,
						       'refund_to', refund_to, 'voucher_id', voucher_id),
				    v_accounts, v_amounts);
	END IF;

	FOR v_hold IN SELECT h.id FROM holds h WHERE h.order_id = p_order_id AND h.status = 'pending' ORDER BY h.id LOOP
		PERFORM spaza__hold_release(v_hold, 'voided');
	END LOOP;
	UPDATE slips s SET status = 'voided' WHERE s.order_id = p_order_id AND s.status = 'open';
	UPDATE orders o SET status = 'cancelled', cancelled_at = now(), cancel_key = p_idem_key, updated_at = now()
		WHERE o.id = p_order_id;
	UPDATE products p SET stock = p.stock + v_order.qty WHERE p.id = v_order.product_id;
END $$;

-- Expire pending credit holds and open slips whose time is up (spazad calls it periodically;
-- it also resolves a hold left behind by a crash between hold and post). Orders that are busy
-- right now are skipped and picked up by the next call. At most p_limit of each per call.
CREATE FUNCTION spaza_holds_expire(p_now timestamptz DEFAULT now(), p_limit integer DEFAULT 1000,
				   OUT holds_expired integer, OUT slips_expired integer)
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	holds_expired := 0;
	slips_expired := 0;
	FOR r IN SELECT h.id, h.order_id FROM holds h WHERE h.status = 'pending' AND h.expires_at <= p_now
			ORDER BY h.expires_at LIMIT p_limit LOOP
		PERFORM 1 FROM orders o WHERE o.id = r.order_id FOR UPDATE SKIP LOCKED;
		IF FOUND AND spaza__hold_release(r.id, 'expired') THEN
			holds_expired := holds_expired + 1;
		END IF;
	END LOOP;
	FOR r IN SELECT s.id, s.order_id FROM slips s WHERE s.status = 'open' AND s.expires_at <= p_now
			ORDER BY s.expires_at LIMIT p_limit LOOP
		PERFORM 1 FROM orders o WHERE o.id = r.order_id FOR UPDATE SKIP LOCKED;
		IF FOUND THEN
			UPDATE slips s SET status = 'expired' WHERE s.id = r.id AND s.status = 'open';
			IF FOUND THEN
				slips_expired := slips_expired + 1;
			END IF;
		END IF;
	END LOOP;
END $$;

------------------------------------------------------------------------------------------
-- The invariants (spazactl ledger check): one row per violation, none when all hold.
CREATE FUNCTION spaza_ledger_check() RETURNS TABLE (invariant text, detail text)
LANGUAGE sql STABLE AS $$
	-- postings sum to zero per transaction, and every transaction has at least two
	SELECT 'unbalanced transaction', format('transaction %s (%s, key %s): %s entries summing to %s',
		t.id, t.reason, t.idem_key, count(e.id), coalesce(sum(e.amount_cents), 0))
	FROM ledger_txns t LEFT JOIN ledger_entries e ON e.txn_id = t.id
	GROUP BY t.id HAVING coalesce(sum(e.amount_cents), 0) <> 0 OR count(e.id) < 2
	UNION ALL
	-- ... and overall
	SELECT 'ledger does not sum to zero', format('all entries sum to %s', sum(e.amount_cents))
	FROM ledger_entries e HAVING sum(e.amount_cents) <> 0
	UNION ALL
	-- no credit line used beyond its limit
	SELECT 'credit line used beyond its limit', format('customer %s: used %s, limit %s', c.customer_id,
		c.used_cents, c.limit_cents)
	FROM credit_lines c WHERE c.used_cents > c.limit_cents OR c.used_cents < 0
	UNION ALL
	-- what a credit line counts as used is what the ledger says is owed plus pending holds
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
	-- each voucher redeemed at most to its value: sold for its value, and its float account
	-- holds exactly the remainder, which lies between 0 and the value
	SELECT 'voucher redeemed beyond its value', format('voucher %s (...%s): value %s, sold for %s, remaining %s, float balance %s',
		v.id, v.last4, v.value_cents, sold, v.remaining_cents, -bal)
	FROM vouchers v,
	     LATERAL (SELECT coalesce(-sum(e.amount_cents) FILTER (WHERE t.reason = 'voucher_sale'), 0) AS sold,
			     coalesce(sum(e.amount_cents), 0) AS bal
		      FROM ledger_accounts a JOIN ledger_entries e ON e.account_id = a.id
		      JOIN ledger_txns t ON t.id = e.txn_id
		      WHERE a.kind = 'voucher_float' AND a.owner_id = v.id) f
	WHERE sold <> v.value_cents OR -bal <> v.remaining_cents OR -bal < 0 OR -bal > v.value_cents
	UNION ALL
	-- each slip paid at most once
	SELECT 'slip paid more than once', format('slip %s: %s payments in force, status %s', s.ref, n, s.status)
	FROM slips s, LATERAL (SELECT count(*) AS n FROM till_payments p WHERE p.slip_id = s.id AND p.status = 'paid') pc
	WHERE n > 1 OR (s.status = 'paid') <> (n = 1)
	UNION ALL
	-- every till payment in force is on the ledger, and every reversal too
	SELECT 'till payment not on the ledger', format('till payment %s of retailer %s (status %s)',
		p.till_payment_id, p.retailer_id, p.status)
	FROM till_payments p
	WHERE (p.amount_cents > 0 AND p.ledger_txn_id IS NULL)
	   OR (p.status = 'reversed' AND p.amount_cents > 0 AND p.reversal_txn_id IS NULL)
	UNION ALL
	-- every paid order has exactly one settled payment (payments less reversals and refunds),
	-- for its total; an unpaid or cancelled one has none
	SELECT CASE WHEN o.status IN ('paid', 'shipped', 'delivered')
		    THEN 'paid order without exactly one settled payment'
		    ELSE 'unpaid order with a settled payment' END,
	       format('order %s (%s): %s settled payments for %s, total %s', o.id, o.status, coalesce(n, 0),
		      coalesce(received, 0), o.total_cents)
	FROM orders o
	LEFT JOIN LATERAL (
		SELECT sum(CASE WHEN t.reason IN ('order_payment', 'voucher_redeem', 'credit_payment', 'slip_payment')
				THEN 1 ELSE -1 END) AS n,
		       sum((SELECT -sum(e.amount_cents) FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
			    WHERE e.txn_id = t.id AND a.kind IN ('sales', 'refunds'))) AS received
		FROM ledger_txns t WHERE t.order_id = o.id
		  AND t.reason IN ('order_payment', 'voucher_redeem', 'credit_payment', 'slip_payment', 'reversal', 'refund')
	) s ON true
	WHERE CASE WHEN o.status IN ('paid', 'shipped', 'delivered')
		   THEN coalesce(n, 0) <> 1 OR coalesce(received, 0) <> o.total_cents
		   ELSE coalesce(n, 0) <> 0 OR coalesce(received, 0) <> 0 END
	UNION ALL
	-- the shop never owes a customer a negative amount of store credit
	SELECT 'store credit below zero', format('customer %s: store credit %s', a.owner_id, -sum(e.amount_cents))
	FROM ledger_accounts a JOIN ledger_entries e ON e.account_id = a.id
	WHERE a.kind = 'store_credit' GROUP BY a.owner_id HAVING sum(e.amount_cents) > 0;
$$;
