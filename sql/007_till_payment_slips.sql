-- A till payment id belongs to one slip, for good, whatever became of the first request.
--
-- till_payments already keeps a payment id to its slip once it paid or was reversed, but a
-- refused payment (already paid, wrong amount, expired ...) was not stored, so that its retry
-- is judged afresh: the same id could then pay another slip. A till that was declined on one
-- slip and sends the same id for another one is not retrying, it is either confused or
-- replaying someone else's request, and money must not move on it. So every payment id that
-- reaches a slip is bound to that slip here, in the transaction that judges it, and refusals
-- keep being judged afresh on their own slip only.
--
-- The binding is checked in front of the ledger's functions, under the same per-payment-id
-- lock they take (pg_advisory_xact_lock may be taken twice by one transaction), so two
-- requests with one id for two slips are decided one after the other: a till's payment and
-- reversal go through spaza_till_pay and spaza_till_reverse, which bind, then call
-- spaza_slip_pay and spaza_slip_reverse (002) for the money.
CREATE TABLE till_payment_slips (
	retailer_id     integer NOT NULL REFERENCES retailers(id),
	till_payment_id text NOT NULL,
	slip_id         bigint NOT NULL REFERENCES slips(id),
	created_at      timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (retailer_id, till_payment_id)
);
INSERT INTO till_payment_slips (retailer_id, till_payment_id, slip_id, created_at)
	SELECT retailer_id, till_payment_id, slip_id, created_at FROM till_payments;

-- Binds (the key's retailer, p_till_payment_id) to the slip p_ref names, if both exist and the
-- id is not bound yet, and takes the id's lock. True when the id is bound to another slip: the
-- caller refuses with wrong_slip. False otherwise, unknown keys and slips included (the
-- ledger's functions answer those).
CREATE FUNCTION spaza__till_bind(p_key_id text, p_till_payment_id text, p_ref text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	v_retailer integer;
	v_slip_id bigint;
	v_bound bigint;
BEGIN
	SELECT k.retailer_id INTO v_retailer FROM retailer_keys k WHERE k.key_id = p_key_id AND k.revoked_at IS NULL;
	SELECT s.id INTO v_slip_id FROM slips s WHERE s.ref = regexp_replace(p_ref, '\s', '', 'g');
	IF v_retailer IS NULL OR v_slip_id IS NULL THEN
		RETURN false;
	END IF;
	PERFORM spaza__lock_key('till:' || v_retailer || ':' || p_till_payment_id);
	INSERT INTO till_payment_slips (retailer_id, till_payment_id, slip_id) VALUES (v_retailer, p_till_payment_id, v_slip_id)
		ON CONFLICT (retailer_id, till_payment_id) DO NOTHING;
	SELECT b.slip_id INTO v_bound FROM till_payment_slips b
		WHERE b.retailer_id = v_retailer AND b.till_payment_id = p_till_payment_id;
	RETURN v_bound <> v_slip_id;
END $$;

-- A till's payment (POST /api/v1/slips/{ref}/payments): spaza_slip_pay, and
-- outcome: wrong_slip   this payment id was first sent for another slip (paid, refused or
--                       reversed there): use a new id for a new payment
CREATE FUNCTION spaza_till_pay(p_key_id text, p_till_payment_id text, p_ref text, p_amount_cents bigint,
			       p_request_hash text,
			       OUT outcome text, OUT order_id bigint, OUT amount_cents bigint, OUT response jsonb)
LANGUAGE plpgsql AS $$
BEGIN
	IF spaza__till_bind(p_key_id, p_till_payment_id, p_ref) THEN
		outcome := 'wrong_slip';
		response := spaza__till_response(outcome, regexp_replace(p_ref, '\s', '', 'g'), p_till_payment_id, NULL, NULL);
		RETURN;
	END IF;
	SELECT * INTO outcome, order_id, amount_cents, response
		FROM spaza_slip_pay(p_key_id, p_till_payment_id, p_ref, p_amount_cents, p_request_hash);
END $$;

-- A till's reversal (POST /api/v1/slips/{ref}/payments/{id}/reversal): spaza_slip_reverse,
-- and a reversal naming a slip (p_ref) is refused with wrong_slip when its payment id was
-- first sent for another slip.
CREATE FUNCTION spaza_till_reverse(p_key_id text, p_till_payment_id text, p_ref text DEFAULT NULL,
				   OUT outcome text, OUT order_id bigint, OUT amount_cents bigint, OUT response jsonb)
LANGUAGE plpgsql AS $$
BEGIN
	IF p_ref IS NOT NULL AND spaza__till_bind(p_key_id, p_till_payment_id, p_ref) THEN
		outcome := 'wrong_slip';
		amount_cents := 0;
		response := spaza__till_response(outcome, regexp_replace(p_ref, '\s', '', 'g'), p_till_payment_id, NULL, NULL);
		RETURN;
	END IF;
	SELECT * INTO outcome, order_id, amount_cents, response
		FROM spaza_slip_reverse(p_key_id, p_till_payment_id, p_ref);
END $$;

-- As every ledger function (sql/006_roles.sql): run as the owner, with a fixed search_path; the
-- runtime role may call the two doors, never the binding itself or the table.
ALTER FUNCTION spaza__till_bind SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_till_pay SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_till_reverse SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE ALL ON FUNCTION spaza__till_bind FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spaza_till_pay, spaza_till_reverse TO spaza_app;
