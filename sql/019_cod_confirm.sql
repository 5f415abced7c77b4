-- Spaza schema, step 19: cash on delivery confirmed by the people who hold the cash (issue 11).
--
-- Until now only `spazactl order cod-paid` settled a cash-on-delivery order, on the server. Now
-- three more doors do, all through the one body below (spaza__cod_confirm, the old
-- spaza_cod_settle's, so one posting per order keyed 'spaza:cod:<order>' whoever confirms):
--   - a retailer's till page (the back office, a retailer user's session),
--   - a retailer's till system over the signed till API (its key id),
--   - fulfilment, finance or the owner on the orders board (a courier handing in the cash).
-- Each confirmation is a row of cod_confirmations: who confirmed, through which door, and for a
-- retailer the till's own request id, so a retry of the same id is the first answer, byte for
-- byte, and the cash a retailer took counts in what that retailer owes the shop (retailer_cash,
-- which settlement per retailer reads beside the slips its tills took).

CREATE TABLE cod_confirmations (
	order_id     bigint PRIMARY KEY REFERENCES orders(id),
	txn_id       bigint NOT NULL UNIQUE REFERENCES ledger_txns(id),
	amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
	-- the retailer who has the cash (its ledger's retailer_clearing is debited); NULL: the shop's own
	retailer_id  integer REFERENCES retailers(id),
	key_id       text REFERENCES retailer_keys(key_id),	-- the till API's key, else NULL
	-- the retailer's own id for this confirmation (the till API's payment_id, the till page's
	-- "web-cod-<order>"): the same id again is the same confirmation
	request_id   text CHECK (request_id ~ '^[[:graph:]]{1,64}$'),
	request_hash bytea,		-- what the request asked (order, amount): another ask under the id is a conflict
	confirmed_by text NOT NULL,	-- as the customer's timeline and `cod-paid` name them
	via          text NOT NULL CHECK (via IN ('spazactl', 'office', 'till_page', 'till_api')),
	staff_id     integer REFERENCES staff(id),	-- the back office's member of staff, else NULL
	response     jsonb,		-- a retailer's first answer, handed back to its retries
	created_at   timestamptz NOT NULL DEFAULT now(),
	UNIQUE (retailer_id, request_id),
	CHECK ((request_id IS NULL) = (retailer_id IS NULL))
);
CREATE INDEX cod_confirmations_by_retailer ON cod_confirmations (retailer_id, created_at) WHERE retailer_id IS NOT NULL;

-- The confirmations made before this step (spazactl's), so that every cod_payment has its row.
INSERT INTO cod_confirmations (order_id, txn_id, amount_cents, retailer_id, confirmed_by, via, created_at)
SELECT t.order_id, t.id, (t.result->>'amount_cents')::bigint, NULL, coalesce(t.result->>'by', 'unknown'), 'spazactl',
       t.created_at
FROM ledger_txns t WHERE t.reason = 'cod_payment' AND t.order_id IS NOT NULL
ON CONFLICT (order_id) DO NOTHING;

-- The cash each retailer took for the shop: slips its tills took (not reversed) and cash on
-- delivery it confirmed. Settlement (what a retailer owes) is the sum; `kind` says which.
CREATE VIEW retailer_cash AS
	SELECT 'slip'::text AS kind, p.retailer_id, p.created_at AS at, p.amount_cents
	FROM till_payments p WHERE p.status = 'paid'
	UNION ALL
	SELECT 'cod'::text, c.retailer_id, c.created_at, c.amount_cents
	FROM cod_confirmations c WHERE c.retailer_id IS NOT NULL;

-- The one body of a cash-on-delivery confirmation (was spaza_cod_settle's, sql/012): the order
-- is paid once, whoever confirms and however often. fresh says this call moved the money (a
-- repeat answers the first result with fresh false); order_status is the order's now.
-- outcome: paid | not_cod | not_payable | not_found, as spaza_cod_settle.
CREATE FUNCTION spaza__cod_confirm(p_order_id bigint, p_by text, p_retailer_id integer, p_via text, p_staff_id integer,
				   p_key_id text, p_request_id text, p_request_hash bytea,
				   OUT outcome text, OUT amount_cents bigint, OUT confirmed_by text, OUT order_status text,
				   OUT fresh boolean)
LANGUAGE plpgsql AS $$
DECLARE
	v_key text := 'spaza:cod:' || p_order_id;
	v_txn ledger_txns%ROWTYPE;
	v_order orders%ROWTYPE;
	v_txn_id bigint;
BEGIN
	amount_cents := 0;
	fresh := false;
	PERFORM spaza__lock_key(v_key);
	SELECT * INTO v_txn FROM ledger_txns t WHERE t.idem_key = v_key;
	IF FOUND THEN
		outcome := v_txn.result->>'outcome';
		amount_cents := (v_txn.result->>'amount_cents')::bigint;
		confirmed_by := v_txn.result->>'by';
		SELECT o.status INTO order_status FROM orders o WHERE o.id = p_order_id;
		RETURN;
	END IF;
	SELECT * INTO v_order FROM orders o WHERE o.id = p_order_id FOR UPDATE;
	order_status := v_order.status;
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
	v_txn_id := spaza__post(v_key, 'cod_payment', p_order_id, spaza__hash('cod', p_order_id::text),
				jsonb_build_object('outcome', outcome, 'amount_cents', amount_cents, 'by', p_by,
						   'retailer_id', p_retailer_id),
				ARRAY[spaza__account('retailer_clearing', p_retailer_id), spaza__account('sales', NULL)],
				ARRAY[amount_cents, -amount_cents]);
	PERFORM spaza__order_settle(p_order_id, 'cod', NULL, NULL);
	INSERT INTO cod_confirmations (order_id, txn_id, amount_cents, retailer_id, key_id, request_id, request_hash,
				       confirmed_by, via, staff_id)
		VALUES (p_order_id, v_txn_id, amount_cents, p_retailer_id, p_key_id, p_request_id, p_request_hash, p_by,
			p_via, p_staff_id);
	order_status := 'paid';
	fresh := true;
END $$;

-- spazactl's door, unchanged for its callers (COD_SETTLE): the body above, as spazactl.
CREATE OR REPLACE FUNCTION spaza_cod_settle(p_order_id bigint, p_by text, p_retailer_id integer DEFAULT NULL,
					    OUT outcome text, OUT amount_cents bigint, OUT confirmed_by text)
LANGUAGE plpgsql AS $$
BEGIN
	SELECT c.outcome, c.amount_cents, c.confirmed_by INTO outcome, amount_cents, confirmed_by
	FROM spaza__cod_confirm(p_order_id, p_by, p_retailer_id, 'spazactl', NULL, NULL, NULL, NULL) c;
END $$;

-- A till's answer about a confirmation (the till API's body, the till page's): nulls left out.
CREATE FUNCTION spaza__cod_response(p_outcome text, p_order_id bigint, p_request_id text, p_amount_cents bigint,
				    p_order_status text, p_confirmed_by text) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_strip_nulls(jsonb_build_object('outcome', p_outcome, 'type', 'cod_payment', 'order', p_order_id,
						    'payment_id', p_request_id, 'amount_cents', p_amount_cents,
						    'order_status', p_order_status, 'confirmed_by', p_confirmed_by,
						    'at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')));
$$;

-- A retailer confirms the cash of a cash-on-delivery order under its own request id (the till
-- API's payment_id, the till page's "web-cod-<order>"), with the amount it took.
-- outcome: paid          the order is paid by this retailer's cash (a repeat of the id and
--                        request: the first response, unchanged)
--          conflict      the id was used before for another order or amount
--          not_found     no such order
--          not_cod       the customer did not choose cash on delivery for it
--          already_paid  paid already: by another confirmation or another way
--          not_payable   cancelled or expired (order_status says which)
--          wrong_amount  not the amount due (amount_cents says what is)
-- The response (jsonb) is what the till is answered, on refusals too.
CREATE FUNCTION spaza__retailer_cod(p_retailer_id integer, p_key_id text, p_request_id text,
				    p_order_id bigint, p_amount_cents bigint, p_via text, p_staff_id integer,
				    p_by text, OUT outcome text, OUT order_id bigint, OUT amount_cents bigint,
				    OUT response jsonb, OUT confirmed_by text, OUT order_status text)
LANGUAGE plpgsql AS $$
DECLARE
	v_hash bytea := spaza__hash('cod_payment', p_order_id::text, p_amount_cents::text);
	v_c cod_confirmations%ROWTYPE;
	v_order orders%ROWTYPE;
	v_due bigint;
	v_fresh boolean;
BEGIN
	order_id := p_order_id;
	amount_cents := 0;
	-- the retailer's request id first, then the order's key (spaza__cod_confirm): every door
	-- locks in this order
	PERFORM spaza__lock_key('till:cod:' || p_retailer_id || ':' || p_request_id);
	SELECT * INTO v_c FROM cod_confirmations c WHERE c.retailer_id = p_retailer_id AND c.request_id = p_request_id;
	IF FOUND THEN
		IF v_c.request_hash IS DISTINCT FROM v_hash THEN
			outcome := 'conflict';
			response := spaza__cod_response(outcome, p_order_id, p_request_id, NULL, NULL, NULL);
		ELSE
			outcome := v_c.response->>'outcome';
			amount_cents := v_c.amount_cents;
			response := v_c.response;
			confirmed_by := v_c.confirmed_by;
			SELECT o.status INTO order_status FROM orders o WHERE o.id = p_order_id;
		END IF;
		RETURN;
	END IF;
	SELECT * INTO v_order FROM orders o WHERE o.id = p_order_id;
	order_status := v_order.status;
	v_due := v_order.total_cents - v_order.store_credit_cents;
	IF NOT FOUND THEN
		outcome := 'not_found';
	ELSIF v_order.cod_at IS NULL THEN
		outcome := 'not_cod';
	ELSIF v_order.status IN ('paid', 'shipped', 'delivered') THEN
		outcome := 'already_paid';
		SELECT c.confirmed_by INTO confirmed_by FROM cod_confirmations c WHERE c.order_id = p_order_id;
	ELSIF v_order.status <> 'awaiting_payment' THEN
		outcome := 'not_payable';
	ELSIF p_amount_cents <> v_due THEN
		outcome := 'wrong_amount';
		amount_cents := v_due;
	END IF;
	IF outcome IS NULL THEN
		SELECT c.outcome, c.amount_cents, c.confirmed_by, c.order_status, c.fresh
		INTO outcome, amount_cents, confirmed_by, order_status, v_fresh
		FROM spaza__cod_confirm(p_order_id, p_by, p_retailer_id, p_via, p_staff_id, p_key_id, p_request_id, v_hash) c;
		-- confirmed meanwhile by someone else (the order was read unlocked above)
		IF outcome = 'paid' AND NOT v_fresh THEN
			outcome := 'already_paid';
			amount_cents := 0;
		END IF;
	END IF;
	-- a refusal names no amount but the amount due (wrong_amount) and nothing of the customer
	response := spaza__cod_response(outcome, p_order_id, p_request_id,
					CASE WHEN outcome IN ('paid', 'wrong_amount') THEN amount_cents END,
					CASE WHEN outcome IN ('paid', 'not_payable', 'already_paid') THEN order_status END,
					CASE WHEN outcome IN ('paid', 'already_paid') THEN confirmed_by END);
	IF outcome = 'paid' THEN
		UPDATE cod_confirmations c SET response = spaza__retailer_cod.response WHERE c.order_id = p_order_id;
	END IF;
END $$;

-- The till API's door (POST /api/v1/orders/{id}/cod-payment): the retailer is its active key's.
-- unknown_key for an unknown or revoked key; otherwise spaza__retailer_cod, confirmed by the
-- retailer's name.
CREATE FUNCTION spaza_till_cod_pay(p_key_id text, p_request_id text, p_order_id bigint, p_amount_cents bigint,
				   OUT outcome text, OUT order_id bigint, OUT amount_cents bigint, OUT response jsonb)
LANGUAGE plpgsql AS $$
DECLARE
	v_ret integer;
	v_name text;
BEGIN
	order_id := p_order_id;
	amount_cents := 0;
	SELECT r.retailer_id, r.retailer_name INTO v_ret, v_name FROM spaza_retailer_by_key(p_key_id) r;
	IF v_ret IS NULL THEN
		outcome := 'unknown_key';
		response := spaza__cod_response(outcome, p_order_id, p_request_id, NULL, NULL, NULL);
		RETURN;
	END IF;
	SELECT x.outcome, x.amount_cents, x.response INTO outcome, amount_cents, response
	FROM spaza__retailer_cod(v_ret, p_key_id, p_request_id, p_order_id, p_amount_cents, 'till_api', NULL,
				 v_name) x;
END $$;

-- The back office's door (a staff session, as spaza_staff_refund checks it, sql/017):
--   a retailer user on the till page: spaza__retailer_cod under "web-cod-<order>", so a second
--     click or a second tab is the first answer; confirmed by "<retailer> (<login>)";
--   fulfilment, finance or the owner on the orders board (a courier handed in the cash): the
--     shop's own cash (no retailer), confirmed by the login; a repeat answers paid, first
--     confirmer named, as `spazactl order cod-paid` does;
--   anyone else, or no live session: not_allowed.
-- Columns: outcome, amount, the order's customer, who confirmed (first), the order's status now.
CREATE FUNCTION spaza_staff_cod_settle(p_session bytea, p_order_id bigint, p_amount_cents bigint,
				       OUT outcome text, OUT amount_cents bigint, OUT customer_id bigint,
				       OUT confirmed_by text, OUT order_status text)
LANGUAGE plpgsql AS $$
DECLARE
	v_staff staff%ROWTYPE;
	v_name text;
BEGIN
	amount_cents := 0;
	SELECT s.* INTO v_staff FROM staff_sessions x JOIN staff s ON s.id = x.staff_id
	WHERE x.token_sha256 = p_session AND x.expires_at > now() AND NOT s.disabled;
	IF NOT FOUND OR v_staff.role NOT IN ('retailer', 'owner', 'fulfilment', 'finance') THEN
		outcome := 'not_allowed';
		RETURN;
	END IF;
	IF v_staff.role = 'retailer' THEN
		SELECT r.name INTO v_name FROM retailers r WHERE r.id = v_staff.retailer_id;
		SELECT x.outcome, x.amount_cents, x.confirmed_by, x.order_status
		INTO outcome, amount_cents, confirmed_by, order_status
		FROM spaza__retailer_cod(v_staff.retailer_id, NULL, 'web-cod-' || p_order_id, p_order_id,
					 p_amount_cents, 'till_page', v_staff.id, v_name || ' (' || v_staff.login || ')') x;
	ELSE
		SELECT c.outcome, c.amount_cents, c.confirmed_by, c.order_status
		INTO outcome, amount_cents, confirmed_by, order_status
		FROM spaza__cod_confirm(p_order_id, v_staff.login, NULL, 'office', v_staff.id, NULL, NULL, NULL) c;
	END IF;
	SELECT o.customer_id INTO customer_id FROM orders o WHERE o.id = p_order_id;
END $$;

-- What a retailer may know of an order before taking its cash (GET /api/v1/orders/{id}/cod-payment,
-- the till page): whether it is to be paid cash on delivery, and only then its amount due and
-- status, and whether this retailer confirmed it (with its request id). Nothing of the customer;
-- no row: no such order.
CREATE FUNCTION spaza_cod_lookup(p_retailer_id integer, p_order_id bigint,
				 OUT order_id bigint, OUT cod boolean, OUT order_status text, OUT amount_cents bigint,
				 OUT payable boolean, OUT confirmed boolean, OUT by_you boolean, OUT payment_id text,
				 OUT confirmed_at text)
RETURNS SETOF record LANGUAGE sql STABLE AS $$
	SELECT o.id, o.cod_at IS NOT NULL,
	       CASE WHEN o.cod_at IS NOT NULL THEN o.status END,
	       CASE WHEN o.cod_at IS NOT NULL THEN o.total_cents - o.store_credit_cents END,
	       o.cod_at IS NOT NULL AND o.status = 'awaiting_payment',
	       c.order_id IS NOT NULL,
	       c.order_id IS NOT NULL AND c.retailer_id IS NOT DISTINCT FROM p_retailer_id AND p_retailer_id IS NOT NULL,
	       CASE WHEN c.retailer_id = p_retailer_id THEN c.request_id END,
	       to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
	FROM orders o LEFT JOIN cod_confirmations c ON c.order_id = o.id
	WHERE o.id = p_order_id
$$;

-- Cash on delivery's invariants, beside the ledger's (`spazactl ledger check`): every cod_payment
-- posting has exactly its one confirmation, of the same order and amount, and the cash is on the
-- account of who the confirmation says holds it (a retailer's clearing account, or the shop's own).
CREATE FUNCTION spaza_cod_check() RETURNS TABLE (invariant text, detail text)
LANGUAGE sql STABLE AS $$
	SELECT 'cash on delivery without its confirmation', format('order %s: posting %s', t.order_id, t.id)
	FROM ledger_txns t LEFT JOIN cod_confirmations c ON c.txn_id = t.id
	WHERE t.reason = 'cod_payment' AND (c.txn_id IS NULL OR c.order_id IS DISTINCT FROM t.order_id
		OR c.amount_cents <> (t.result->>'amount_cents')::bigint)
	UNION ALL
	SELECT 'cash on delivery confirmed without its posting', format('order %s', c.order_id)
	FROM cod_confirmations c JOIN ledger_txns t ON t.id = c.txn_id WHERE t.reason <> 'cod_payment'
	UNION ALL
	SELECT 'cash on delivery on the account of another than who holds it', format('order %s: retailer %s', c.order_id,
		coalesce(c.retailer_id::text, 'none (the shop)'))
	FROM cod_confirmations c
	WHERE NOT EXISTS (SELECT 1 FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
			  WHERE e.txn_id = c.txn_id AND a.kind = 'retailer_clearing'
			    AND a.owner_id IS NOT DISTINCT FROM c.retailer_id::bigint AND e.amount_cents = c.amount_cents);
$$;

-- Rights, as every ledger door (sql/006_roles.sql): the bodies run as the owner with a fixed
-- search_path; the runtime role calls the three doors and reads retailer_cash, never the table.
ALTER FUNCTION spaza__cod_confirm SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_cod_settle SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza__cod_response SET search_path = public, pg_temp;
ALTER FUNCTION spaza__retailer_cod SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_till_cod_pay SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_staff_cod_settle SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_cod_lookup SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_cod_check SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE ALL ON FUNCTION spaza__cod_confirm, spaza__cod_response, spaza__retailer_cod, spaza_till_cod_pay,
	spaza_staff_cod_settle, spaza_cod_lookup, spaza_cod_check FROM PUBLIC;
DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT EXECUTE ON FUNCTION spaza_till_cod_pay, spaza_staff_cod_settle, spaza_cod_lookup, spaza_cod_check TO spaza_app;
		GRANT SELECT ON retailer_cash TO spaza_app;
	END IF;
END $$;
