-- Spaza schema, step 30: a PIN's voucher found by one index lookup per key version.
--
-- spaza_voucher_redeem_v and spaza_credit_repay_v (sql/008, sql/012) found the voucher by a join
-- of vouchers with unnest(the PIN's HMACs, their key versions). PL/pgSQL keeps a statement's
-- generic plan only when it is no dearer than its custom plans, and for that join the generic
-- plan assumes ten array elements (cost 84, against 8 for a custom plan of the one or two a
-- payment sends): the statement was planned again at every voucher payment, 5% of the
-- customers' backend under the benchmark (perf: pg_plan_query under GetCachedPlan under the
-- voucher function, doc/benchmark.md). One lookup per version on the unique index
-- (key_version, pin_hmac) is planned once per connection. Same results: the voucher of the
-- newest version that matches, or none. The two functions are otherwise as they were.
CREATE FUNCTION spaza__voucher_by_pins(p_pin_hmacs_hex text[], p_versions integer[]) RETURNS vouchers
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v vouchers%ROWTYPE;
	v_best vouchers%ROWTYPE;
BEGIN
	FOR i IN 1 .. coalesce(array_length(p_pin_hmacs_hex, 1), 0) LOOP
		SELECT * INTO v FROM vouchers x
			WHERE x.key_version = p_versions[i] AND x.pin_hmac = decode(p_pin_hmacs_hex[i], 'hex');
		IF FOUND AND (v_best.id IS NULL OR v.key_version > v_best.key_version) THEN
			v_best := v;
		END IF;
	END LOOP;
	RETURN v_best;
END $$;
ALTER FUNCTION spaza__voucher_by_pins SET search_path = public, pg_temp;
REVOKE EXECUTE ON FUNCTION spaza__voucher_by_pins FROM PUBLIC;

CREATE OR REPLACE FUNCTION spaza_voucher_redeem_v(p_idem_key text, p_pin_hmacs_hex text[], p_versions integer[],
				       p_min_version integer, p_customer_id bigint, p_order_id bigint,
				       OUT outcome text, OUT paid_cents bigint, OUT remaining_cents bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_n integer := array_length(p_pin_hmacs_hex, 1);
	v_found vouchers%ROWTYPE;
	v_hash bytea;
BEGIN
	v_found := spaza__voucher_by_pins(p_pin_hmacs_hex, p_versions);
	IF v_found.id IS NOT NULL AND v_found.key_version < p_min_version THEN
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

CREATE OR REPLACE FUNCTION spaza_credit_repay_v(p_idem_key text, p_pin_hmacs_hex text[], p_versions integer[],
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
	v_found := spaza__voucher_by_pins(p_pin_hmacs_hex, p_versions);
	IF v_found.id IS NOT NULL AND v_found.key_version < p_min_version THEN
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
-- CREATE OR REPLACE set both back to the defaults; as sql/008 and sql/012 made them (set after the body,
-- whose %ROWTYPE is resolved in the schema the migrations run in):
ALTER FUNCTION spaza_voucher_redeem_v SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_credit_repay_v SECURITY DEFINER SET search_path = public, pg_temp;
