-- Security (doc/security.md): key versions on what is verified later, the append-only audit
-- log of admin actions, and erasing a customer's personal data (POPIA).

------------------------------------------------------------------------------------------
-- Key rotation: what was made with a key names the key's version (secrets.h).

-- A voucher's PIN HMAC was made under this version of 'voucher-pin'.
ALTER TABLE vouchers ADD COLUMN key_version integer NOT NULL DEFAULT 1 CHECK (key_version >= 1);
ALTER TABLE vouchers DROP CONSTRAINT vouchers_pin_hmac_key;
CREATE UNIQUE INDEX vouchers_pin_hmac_version ON vouchers (key_version, pin_hmac);

-- A retailer key's secret is HMAC('retailer-master' of this version, key id); the key id says
-- the same (rk<N>_...), so a till request needs no query to find it; this is for the staff.
ALTER TABLE retailer_keys ADD COLUMN master_version integer NOT NULL DEFAULT 1 CHECK (master_version >= 1);

-- Issue vouchers under a key version: as spaza_voucher_issue(), which stays for version 1.
CREATE FUNCTION spaza_voucher_issue_v(p_key_version integer, p_pin_hmacs_hex text[], p_last4s text[],
				      p_value_cents bigint, p_expires_at timestamptz,
				      OUT issued integer, OUT first_id bigint, OUT last_id bigint)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT i.issued, i.first_id, i.last_id INTO issued, first_id, last_id
		FROM spaza_voucher_issue(p_pin_hmacs_hex, p_last4s, p_value_cents, p_expires_at) i;
	UPDATE vouchers v SET key_version = p_key_version WHERE v.id BETWEEN first_id AND last_id;
END $$;

-- Pay an order from a voucher whose PIN was hashed under one of several key versions: the
-- caller sends the PIN's HMAC (hex) under each version it has (p_versions[i] made p_pin_hmacs_hex[i])
-- and the oldest version still in its grace period. Outcomes as spaza_voucher_redeem(), and
--          key_retired   the PIN is genuine but its key version is past its grace period
--                        (counts towards the lockout, as a PIN nobody can use)
-- The HMAC under the newest version identifies the request (its idempotency hash).
CREATE FUNCTION spaza_voucher_redeem_v(p_idem_key text, p_pin_hmacs_hex text[], p_versions integer[],
				       p_min_version integer, p_customer_id bigint, p_order_id bigint,
				       OUT outcome text, OUT paid_cents bigint, OUT remaining_cents bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_n integer := array_length(p_pin_hmacs_hex, 1);
	v_found vouchers%ROWTYPE;
	v_hash bytea;
BEGIN
	SELECT v.* INTO v_found FROM vouchers v
		JOIN unnest(p_pin_hmacs_hex, p_versions) AS m(mac, ver) ON v.pin_hmac = decode(m.mac, 'hex') AND v.key_version = m.ver
		ORDER BY v.key_version DESC LIMIT 1;
	IF FOUND AND v_found.key_version < p_min_version THEN
		v_hash := spaza__hash('voucher_redeem', p_pin_hmacs_hex[v_n], p_customer_id::text,
				      p_order_id::text);
		-- a replay of the same request answers as before
		SELECT f.outcome INTO outcome FROM voucher_failures f WHERE f.idem_key = p_idem_key;
		IF FOUND THEN
			RETURN;
		END IF;
		INSERT INTO voucher_failures (customer_id, idem_key, request_hash, outcome)
			VALUES (p_customer_id, p_idem_key, v_hash, 'key_retired') ON CONFLICT (idem_key) DO NOTHING;
		outcome := 'key_retired';
		paid_cents := 0;
		remaining_cents := 0;
		RETURN;
	END IF;
	SELECT r.outcome, r.paid_cents, r.remaining_cents INTO outcome, paid_cents, remaining_cents
		FROM spaza_voucher_redeem(p_idem_key, COALESCE(v_found.pin_hmac, decode(p_pin_hmacs_hex[v_n], 'hex')), p_customer_id,
					  p_order_id) r;
END $$;

------------------------------------------------------------------------------------------
-- Audit log: every admin action, who, what, when, the record before and after. Append-only:
-- no UPDATE, DELETE or TRUNCATE, for anyone (the trigger), and the runtime role may only add
-- and read rows (the grants at the end).
CREATE TABLE audit_log (
	id       bigserial PRIMARY KEY,
	at       timestamptz NOT NULL DEFAULT now(),
	source   text NOT NULL CHECK (source IN ('spazactl', 'vty', 'api')),
	who      text NOT NULL,		-- OS user, VTY peer address, staff account
	action   text NOT NULL,		-- the command with its arguments, numbers masked, no secrets
	subject  text,			-- what it acted on: "order 1001", "customer 42", "key slip-qr"
	result   text NOT NULL,		-- ok, failed
	before   jsonb,
	after    jsonb
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE FUNCTION spaza__audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'the audit log is append-only (% on %)', TG_OP, TG_TABLE_NAME
		USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION spaza__audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION spaza__audit_append_only();

------------------------------------------------------------------------------------------
-- Privacy: forget a customer (spazactl customer forget). The number becomes a pseudonym in
-- the +999 range (an ITU spare code, never a real phone), SMS texts and delivery details are
-- erased, queued SMS are never sent, and the opt-out record loses its source. The ledger is
-- untouched: its accounts are owned by the customer's id, which stays, so every posting stays
-- and the books still balance. Returns the pseudonym; NULL when there is no such customer.
ALTER TABLE customers ADD COLUMN forgotten_at timestamptz;

CREATE FUNCTION spaza_customer_forget(p_msisdn text, OUT customer_id bigint, OUT pseudonym text)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT c.id INTO customer_id FROM customers c WHERE c.msisdn = p_msisdn FOR UPDATE;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	pseudonym := '+999' || lpad(customer_id::text, 11, '0');
	UPDATE customers SET msisdn = pseudonym, forgotten_at = now(), opt_out_source = NULL
		WHERE id = customer_id;
	UPDATE sms_messages SET text = NULL, last_error = NULL, smsc_reply = NULL, dlr = NULL,
		status = CASE WHEN status = 'queued' THEN 'failed' ELSE status END
		WHERE sms_messages.customer_id = spaza_customer_forget.customer_id;
	-- a daemon that caches customers by number drops this one (the id is not personal)
	PERFORM pg_notify('spaza_customer_forgotten', customer_id::text);
END $$;

------------------------------------------------------------------------------------------
-- As the ledger's functions (sql/006_roles.sql): run as their owner, never resolving a name
-- through the caller's search_path, so the runtime role needs EXECUTE and nothing on the tables.
ALTER FUNCTION spaza_voucher_issue_v SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_voucher_redeem_v SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_customer_forget SECURITY DEFINER SET search_path = public, pg_temp;

------------------------------------------------------------------------------------------
-- Grants for the runtime role of sql/006_roles.sql, when it exists: spazad adds audit rows
-- (VTY changes) and reads them, never changes them; it issues nothing with versions itself
-- but redeems vouchers through the new function.
DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT SELECT, INSERT ON audit_log TO spaza_app;
		GRANT USAGE ON SEQUENCE audit_log_id_seq TO spaza_app;
		REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM spaza_app;
		GRANT EXECUTE ON FUNCTION spaza_voucher_redeem_v(text, text[], integer[], integer, bigint, bigint)
			TO spaza_app;
	END IF;
END $$;
