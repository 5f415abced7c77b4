-- Spaza schema, step 14: the back office's staff accounts and their sessions (doc/back-office.md,
-- doc/security.md "Staff accounts").
--
-- spazactl (the owner) adds, changes and disables accounts; spazad (the runtime role) checks a
-- password, counts failures, opens and closes sessions, and reads nothing else of them. The
-- password is stored only as a memory-hard hash (scrypt, src/domain/staff.c); a session only as
-- the SHA-256 of its cookie, so a copy of this table opens no session.

CREATE TABLE staff (
	id            serial PRIMARY KEY,
	login         text NOT NULL UNIQUE CHECK (login ~ '^[a-z0-9][a-z0-9._-]{1,31}$'),
	role          text NOT NULL CHECK (role IN ('owner', 'care', 'fulfilment', 'finance', 'retailer')),
	-- a retailer user works for exactly one retailer; nobody else belongs to one
	retailer_id   integer REFERENCES retailers(id),
	pw_hash       text NOT NULL,
	disabled      boolean NOT NULL DEFAULT false,
	-- failed logins in a row, and until when the account takes none (per-account throttle)
	failed_logins integer NOT NULL DEFAULT 0,
	locked_until  timestamptz,
	last_login_at timestamptz,
	created_at    timestamptz NOT NULL DEFAULT now(),
	CHECK ((role = 'retailer') = (retailer_id IS NOT NULL))
);

CREATE TABLE staff_sessions (
	token_sha256 bytea PRIMARY KEY CHECK (length(token_sha256) = 32),
	staff_id     integer NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
	csrf         text NOT NULL CHECK (csrf ~ '^[0-9a-f]{64}$'),
	peer         text NOT NULL,
	created_at   timestamptz NOT NULL DEFAULT now(),
	expires_at   timestamptz NOT NULL
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);
CREATE INDEX staff_sessions_expires ON staff_sessions (expires_at);

DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT SELECT ON staff TO spaza_app;
		GRANT UPDATE (failed_logins, locked_until, last_login_at) ON staff TO spaza_app;
		GRANT SELECT, INSERT, DELETE ON staff_sessions TO spaza_app;
	END IF;
END $$;

-- Fulfilment from the back office: spazad may not UPDATE orders (sql/006_roles.sql), so the
-- one change staff make to an order by hand runs here, with the rule ORDER_FULFIL had: only a
-- paid order ships, only a paid or shipped one is delivered (an unpaid order marked shipped
-- would be a sale without its money). spazactl calls it too, so the rule is written once.
-- The customer's SMS follows from orders' status trigger (sql/003_sms.sql). Returns the order
-- and the status it had, no row when it cannot become that.
CREATE FUNCTION spaza_order_fulfil(p_order_id bigint, p_status text, OUT id bigint, OUT old_status text)
RETURNS SETOF record LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	RETURN QUERY WITH u AS (
		UPDATE orders o SET status = p_status, updated_at = now() FROM orders old
		WHERE o.id = p_order_id AND old.id = o.id AND p_status IN ('shipped', 'delivered')
		  AND (old.status = 'paid' OR (p_status = 'delivered' AND old.status = 'shipped'))
		RETURNING o.id AS oid, old.status AS was)
	SELECT u.oid, u.was FROM u;
END $$;

-- Today's payments by how they were paid, for the back office's Today page: the runtime role
-- reads no ledger table, so it gets the sums and nothing else. A payment's amount is what its
-- posting took in (the positive side of its entries). Since: the start of the shop's day.
CREATE FUNCTION spaza_payments_since(p_since timestamptz, OUT method text, OUT n bigint, OUT cents bigint)
RETURNS SETOF record LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	RETURN QUERY SELECT t.reason, count(DISTINCT t.id),
		coalesce(sum(e.amount_cents) FILTER (WHERE e.amount_cents > 0), 0)::bigint
	FROM ledger_txns t JOIN ledger_entries e ON e.txn_id = t.id
	WHERE t.created_at >= p_since
	  AND t.reason IN ('order_payment', 'voucher_redeem', 'credit_payment', 'slip_payment')
	GROUP BY t.reason ORDER BY t.reason;
END $$;

DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT EXECUTE ON FUNCTION spaza_order_fulfil(bigint, text), spaza_payments_since(timestamptz)
			TO spaza_app;
	END IF;
END $$;

-- The till page (a retailer user's) takes payments through the same spaza_slip_pay as the till
-- API, under the retailer's active key: the payment is the retailer's as a till's would be.
-- The key id is no secret (its signing secret is HMAC('retailer-master', key id), never stored).
CREATE FUNCTION spaza_retailer_active_key(p_retailer integer) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	RETURN (SELECT k.key_id FROM retailer_keys k WHERE k.retailer_id = p_retailer AND k.revoked_at IS NULL);
END $$;

DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT EXECUTE ON FUNCTION spaza_retailer_active_key(integer) TO spaza_app;
		-- settlement per retailer names them
		GRANT SELECT (id, name) ON retailers TO spaza_app;
	END IF;
END $$;

-- A credit limit from the back office. Setting one makes credit out of nothing, so the runtime
-- role may not call spaza_credit_set_limit (sql/006_roles.sql): this door lets it through only
-- for a live session of an owner or finance account, so a compromised daemon still needs one.
CREATE FUNCTION spaza_staff_credit_set_limit(p_session bytea, p_customer_id bigint, p_limit_cents bigint,
					     OUT outcome text, OUT used_cents bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM staff_sessions x JOIN staff s ON s.id = x.staff_id
		       WHERE x.token_sha256 = p_session AND x.expires_at > now() AND NOT s.disabled
			 AND s.role IN ('owner', 'finance')) THEN
		outcome := 'not_found';
		RETURN;
	END IF;
	SELECT l.outcome, l.used_cents INTO outcome, used_cents FROM spaza_credit_set_limit(p_customer_id, p_limit_cents) l;
END $$;

DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT EXECUTE ON FUNCTION spaza_staff_credit_set_limit(bytea, bigint, bigint) TO spaza_app;
	END IF;
END $$;

-- The Money page lists the retailers and their till keys: ids and dates, never a secret (there is
-- none stored). The runtime role reads no key table, so it gets this list and nothing else.
CREATE FUNCTION spaza_retailer_keys_list(OUT retailer_id integer, OUT name text, OUT key_id text,
					 OUT created_at timestamptz, OUT revoked_at timestamptz)
RETURNS SETOF record LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	RETURN QUERY SELECT r.id, r.name, k.key_id, k.created_at, k.revoked_at
	FROM retailers r LEFT JOIN retailer_keys k ON k.retailer_id = r.id
	ORDER BY r.name, k.revoked_at IS NULL DESC, k.created_at DESC;
END $$;

DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT EXECUTE ON FUNCTION spaza_retailer_keys_list() TO spaza_app;
	END IF;
END $$;

-- A voucher batch from the back office's Money page: like a credit limit it makes money out of
-- nothing, so it runs only for a live session of an owner or finance account, and issues
-- through spaza_voucher_issue_v() as spazactl does (the PINs themselves never reach the
-- database: their HMACs and last 4 digits do). No row: not such a session.
CREATE FUNCTION spaza_staff_voucher_issue(p_session bytea, p_key_version integer, p_pin_hmacs_hex text[],
					  p_last4s text[], p_value_cents bigint, p_expires_at timestamptz,
					  OUT issued integer, OUT first_id bigint, OUT last_id bigint)
RETURNS SETOF record LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM staff_sessions x JOIN staff s ON s.id = x.staff_id
		       WHERE x.token_sha256 = p_session AND x.expires_at > now() AND NOT s.disabled
			 AND s.role IN ('owner', 'finance')) THEN
		RETURN;
	END IF;
	RETURN QUERY SELECT i.issued, i.first_id, i.last_id
		FROM spaza_voucher_issue_v(p_key_version, p_pin_hmacs_hex, p_last4s, p_value_cents, p_expires_at) i;
END $$;

DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT EXECUTE ON FUNCTION spaza_staff_voucher_issue(bytea, integer, text[], text[], bigint, timestamptz)
			TO spaza_app;
	END IF;
END $$;

-- The orders board pages through one status newest first (OFFICE_ORDERS_PAGE): without this a
-- rare status (delivered, say, among 100,000 paid) would walk the whole primary key.
CREATE INDEX orders_status_id ON orders (status, id DESC);
