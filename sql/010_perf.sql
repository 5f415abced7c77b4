-- Spaza schema, step 10: the database's work per hop (doc/benchmark.md, "Issue 10 regression").
--
-- 008 replaced the unique index on vouchers (pin_hmac) by one on (key_version, pin_hmac), so
-- that the same PIN could be hashed under several key versions. But spaza_voucher_redeem() and
-- spaza_credit_repay() find the voucher by its HMAC alone (spaza_voucher_redeem_v() hands them
-- the HMAC it matched), and PostgreSQL cannot use an index whose first column is not in the
-- condition: every voucher payment read the whole vouchers table, under FOR UPDATE, and took
-- longer the more vouchers a shop had issued (2 ms a payment with the bench's 100,000). An
-- index of its own makes that one row again. Not unique: 008 meant the same HMAC to be allowed
-- under two versions, and this index only finds rows.
CREATE INDEX vouchers_pin_hmac ON vouchers (pin_hmac);

-- The ledger's three helpers written in SQL were inlined into their callers' plans until 006
-- gave every function a fixed search_path: a function with SET is never inlined, and a SQL
-- function that is not inlined is parsed and planned again at every call (its plan lives for
-- one call only). A voucher payment made five such calls. In PL/pgSQL the same bodies keep their
-- plans for the connection's life; each keeps its fixed search_path, its owner and its grants
-- (none for the runtime role: CREATE OR REPLACE keeps the privileges).
CREATE OR REPLACE FUNCTION spaza__lock_key(p_key text) RETURNS void LANGUAGE plpgsql
SET search_path = public, pg_temp AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(1397768537, hashtext(p_key));
END $$;

CREATE OR REPLACE FUNCTION spaza__hash(VARIADIC p_parts text[]) RETURNS bytea LANGUAGE plpgsql IMMUTABLE
SET search_path = public, pg_temp AS $$
BEGIN
	RETURN sha256(convert_to(array_to_string(p_parts, '|', '<null>'), 'UTF8'));
END $$;

CREATE OR REPLACE FUNCTION spaza__voucher_locked(p_customer_id bigint) RETURNS boolean LANGUAGE plpgsql STABLE
SET search_path = public, pg_temp AS $$
BEGIN
	RETURN (SELECT count(*) >= 5 FROM voucher_failures f
		WHERE f.customer_id = p_customer_id AND f.at > now() - interval '24 hours');
END $$;
