-- The customer profile (issue 13): a name asked once on USSD, a preferred channel, custom
-- fields whose keys the shop defines, and the history of marketing consent (given or withdrawn,
-- when and through what: STOP/START by SMS, USSD, staff). Every change is a row of
-- customer_profile_events, which is the customer timeline's `timeline_profile` branch.

ALTER TABLE customers
	ADD COLUMN name          text CHECK (length(name) BETWEEN 1 AND 40),
	ADD COLUMN name_asked_at timestamptz,	-- the name screen was shown and answered or skipped
	ADD COLUMN channel       text CHECK (channel IN ('ussd', 'sms'));

-- The keys of custom fields, defined by the shop (spazactl customer fields add|list).
CREATE TABLE customer_field_keys (
	key        text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_]{0,23}$'),
	label      text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customer_fields (
	customer_id bigint NOT NULL REFERENCES customers(id),
	key         text NOT NULL REFERENCES customer_field_keys(key),
	value       text NOT NULL CHECK (length(value) BETWEEN 1 AND 160),
	PRIMARY KEY (customer_id, key)
);

-- Every profile change, consent included: what changed, through what, by whom. Written by the
-- triggers below, so a change made by any path (SMS STOP, USSD, spazactl, the back office)
-- leaves its row without each path remembering to.
CREATE TABLE customer_profile_events (
	id          bigserial PRIMARY KEY,
	customer_id bigint NOT NULL REFERENCES customers(id),
	at          timestamptz NOT NULL DEFAULT clock_timestamp(),
	kind        text NOT NULL CHECK (kind IN ('name', 'channel', 'field', 'consent')),
	field       text,			-- the custom field's key
	value       text,			-- new value (NULL: removed / skipped); consent: given|withdrawn
	source      text NOT NULL		-- sms, ussd, staff (who), ...
);
CREATE INDEX customer_profile_events_customer_at ON customer_profile_events (customer_id, at);

-- The source of the change in progress: spaza_customer_set() sets it for its own transaction;
-- SMS STOP/START set opt_out_source, and a USSD answer is 'ussd'.
CREATE FUNCTION spaza__profile_source(p_default text) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT coalesce(nullif(current_setting('spaza.profile_source', true), ''), p_default);
$$;

CREATE FUNCTION spaza__profile_customer_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.forgotten_at IS NOT NULL THEN
		RETURN NEW;
	END IF;
	IF NEW.name IS DISTINCT FROM OLD.name OR (OLD.name_asked_at IS NULL AND NEW.name_asked_at IS NOT NULL) THEN
		INSERT INTO customer_profile_events (customer_id, kind, value, source)
			VALUES (NEW.id, 'name', NEW.name, spaza__profile_source('ussd'));
	END IF;
	IF NEW.channel IS DISTINCT FROM OLD.channel THEN
		INSERT INTO customer_profile_events (customer_id, kind, value, source)
			VALUES (NEW.id, 'channel', NEW.channel, spaza__profile_source('ussd'));
	END IF;
	IF NEW.opt_out IS DISTINCT FROM OLD.opt_out THEN
		INSERT INTO customer_profile_events (customer_id, kind, value, source)
			VALUES (NEW.id, 'consent', CASE WHEN NEW.opt_out THEN 'withdrawn' ELSE 'given' END,
				spaza__profile_source(coalesce(NEW.opt_out_source, 'sms')));
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER customers_profile_log AFTER UPDATE OF name, name_asked_at, channel, opt_out ON customers
	FOR EACH ROW EXECUTE FUNCTION spaza__profile_customer_log();

CREATE FUNCTION spaza__profile_field_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		INSERT INTO customer_profile_events (customer_id, kind, field, value, source)
			VALUES (OLD.customer_id, 'field', OLD.key, NULL, spaza__profile_source('staff'));
		RETURN OLD;
	END IF;
	IF TG_OP = 'INSERT' OR NEW.value IS DISTINCT FROM OLD.value THEN
		INSERT INTO customer_profile_events (customer_id, kind, field, value, source)
			VALUES (NEW.customer_id, 'field', NEW.key, NEW.value, spaza__profile_source('staff'));
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER customer_fields_log AFTER INSERT OR UPDATE OR DELETE ON customer_fields
	FOR EACH ROW EXECUTE FUNCTION spaza__profile_field_log();

-- A forgotten customer (POPIA) keeps no name or field values, here or in the history.
CREATE FUNCTION spaza__profile_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM customer_fields WHERE customer_id = NEW.id;
	UPDATE customer_profile_events SET value = NULL WHERE customer_id = NEW.id AND kind IN ('name', 'field');
	UPDATE customers SET name = NULL WHERE id = NEW.id;
	RETURN NEW;
END $$;
CREATE TRIGGER customers_forget_profile AFTER UPDATE OF forgotten_at ON customers FOR EACH ROW
	WHEN (OLD.forgotten_at IS NULL AND NEW.forgotten_at IS NOT NULL) EXECUTE FUNCTION spaza__profile_forget();

-- Staff's change of a profile (spazactl customer set, the back office): NULL leaves a part as
-- it is; p_name '' clears the name; p_consent true gives consent (opt_out false). p_fields is a
-- jsonb object of key -> value ('' removes the field); an unknown key is refused by the
-- foreign key. Returns the number of parts that changed.
CREATE FUNCTION spaza_customer_set(p_customer bigint, p_name text, p_channel text, p_consent boolean,
	p_fields jsonb, p_who text, OUT changed integer)
LANGUAGE plpgsql AS $$
DECLARE
	v_before bigint;
	f record;
BEGIN
	PERFORM set_config('spaza.profile_source', 'staff ' || p_who, true);
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

CREATE FUNCTION spaza_customer_field_key_add(p_key text, p_label text) RETURNS boolean
LANGUAGE sql AS $$
	INSERT INTO customer_field_keys (key, label) VALUES (p_key, p_label)
	ON CONFLICT (key) DO UPDATE SET label = EXCLUDED.label RETURNING (xmax = 0);
$$;

-- The profile as the back office and `customer show --json` print it.
CREATE FUNCTION spaza_customer_profile(p_customer bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'name', c.name, 'name_asked', c.name_asked_at IS NOT NULL, 'language', c.lang, 'channel', c.channel,
		'consent', jsonb_build_object('marketing', NOT c.opt_out, 'at', c.opt_out_at, 'source', c.opt_out_source,
			'history', coalesce((SELECT jsonb_agg(jsonb_build_object('at', e.at, 'consent', e.value,
					'source', e.source) ORDER BY e.at, e.id)
				FROM customer_profile_events e WHERE e.customer_id = c.id AND e.kind = 'consent'), '[]')),
		'fields', coalesce((SELECT jsonb_object_agg(f.key, f.value) FROM customer_fields f
			WHERE f.customer_id = c.id), '{}'))
	FROM customers c WHERE c.id = p_customer;
$$;

CREATE VIEW timeline_profile AS
	SELECT e.customer_id, e.at, 'profile_' || e.kind AS kind, e.id::text AS ref,
		CASE e.kind
		WHEN 'consent' THEN 'marketing consent ' || e.value || ' (' || e.source || ')'
		WHEN 'field' THEN e.field || CASE WHEN e.value IS NULL THEN ' removed' ELSE ' = "' || e.value || '"' END
			|| ' (' || e.source || ')'
		ELSE e.kind || CASE WHEN e.value IS NULL THEN CASE e.kind WHEN 'name' THEN ' skipped or cleared' ELSE ' cleared' END
			ELSE ' = "' || e.value || '"' END || ' (' || e.source || ')' END AS summary
	FROM customer_profile_events e;

-- spaza_customer_timeline (sql/016_wiring.sql) with the CRM's campaign rows (timeline_crm,
-- sql/015_crm.sql) and the timeline_profile branch added.
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
		UNION ALL
		(SELECT v.at, v.kind, v.ref, v.summary FROM timeline_crm v
		 WHERE v.customer_id = p_customer AND v.at < coalesce(p_before, 'infinity') ORDER BY v.at DESC LIMIT p_lim)
		UNION ALL
		(SELECT v.at, v.kind, v.ref, v.summary FROM timeline_profile v
		 WHERE v.customer_id = p_customer AND v.at < coalesce(p_before, 'infinity') ORDER BY v.at DESC LIMIT p_lim)
	) t ORDER BY t.at DESC, length(t.ref) DESC, t.ref DESC, t.kind LIMIT p_lim;
$$;
ALTER FUNCTION spaza_customer_timeline SECURITY DEFINER SET search_path = public, pg_temp;

ALTER FUNCTION spaza__profile_source SET search_path = public, pg_temp;
ALTER FUNCTION spaza__profile_customer_log SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza__profile_field_log SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza__profile_forget SET search_path = public, pg_temp;
ALTER FUNCTION spaza_customer_set SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_customer_field_key_add SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_customer_profile SECURITY DEFINER SET search_path = public, pg_temp;

DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT EXECUTE ON FUNCTION spaza_customer_set, spaza_customer_field_key_add,
			spaza_customer_profile, spaza_customer_timeline TO spaza_app;
		GRANT SELECT ON customer_field_keys TO spaza_app;
		-- SMS STOP/START update opt_out as the runtime role: the trigger writes the history as its owner
	END IF;
END $$;

------------------------------------------------------------------------------------------
-- Loyalty points, kept in the ledger as points (not cents) on two account kinds of their own,
-- so every posting balances within points and the ledger's own invariants (each transaction
-- sums to zero, the whole ledger sums to zero) cover them:
--
--   loyalty_earn     loyalty_issued(shop) +P   loyalty_points(cust) -P   (an order became paid)
--   loyalty_reverse  loyalty_points(cust) +P   loyalty_issued(shop) -P   (the order was refunded)
--   loyalty_expire   loyalty_points(cust) +P   loyalty_issued(shop) -P   (older than the expiry)
--
-- A customer's points are -balance(loyalty_points); loyalty_issued's balance is what the shop
-- has promised in points. Each posting has its idempotency key: loyalty:earn:<order>,
-- loyalty:reverse:<refund txn>, loyalty:expire:<customer>:<day>.

ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check CHECK (kind IN ('customer_credit',
	'voucher_float', 'retailer_clearing', 'sales', 'refunds', 'store_credit', 'loyalty_points', 'loyalty_issued'));
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_check
	CHECK (CASE kind WHEN 'sales' THEN owner_id IS NULL WHEN 'refunds' THEN owner_id IS NULL
			 WHEN 'loyalty_issued' THEN owner_id IS NULL
			 WHEN 'retailer_clearing' THEN true ELSE owner_id IS NOT NULL END);
INSERT INTO ledger_accounts (kind, owner_id) VALUES ('loyalty_issued', NULL);
ALTER TABLE ledger_txns DROP CONSTRAINT ledger_txns_reason_check;
ALTER TABLE ledger_txns ADD CONSTRAINT ledger_txns_reason_check CHECK (reason IN ('order_payment', 'voucher_sale',
	'voucher_redeem', 'credit_payment', 'credit_repayment', 'slip_payment', 'reversal', 'refund',
	'store_credit_payment', 'cod_payment', 'loyalty_earn', 'loyalty_reverse', 'loyalty_expire'));

-- The rules as spazad's configuration says them (loyalty points-per-rand, loyalty expiry-days):
-- spazad writes them at start (domain/loyalty.c), the triggers read them. One row.
CREATE TABLE loyalty_rules (
	one             boolean PRIMARY KEY DEFAULT true CHECK (one),
	points_per_rand integer NOT NULL DEFAULT 1 CHECK (points_per_rand BETWEEN 0 AND 100),
	expiry_days     integer NOT NULL DEFAULT 365 CHECK (expiry_days BETWEEN 1 AND 3650)
);
INSERT INTO loyalty_rules DEFAULT VALUES;

-- Ledger transactions of points by customer: the expiry and balance read them.
CREATE INDEX ledger_txns_loyalty ON ledger_txns (reason, created_at) WHERE reason LIKE 'loyalty_%';

-- A customer's points now.
CREATE FUNCTION spaza__points(p_customer bigint) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT coalesce(-sum(e.amount_cents), 0) FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
	WHERE a.kind = 'loyalty_points' AND a.owner_id = p_customer;
$$;

-- Post points between the customer's account and the shop's; p_points > 0 gives the customer
-- points, < 0 takes them. A retry with the key returns the first posting. The order goes in
-- the result, not in ledger_txns.order_id: that column lists an order's money movements.
CREATE FUNCTION spaza__points_post(p_key text, p_reason text, p_order bigint, p_customer bigint, p_points bigint)
RETURNS bigint LANGUAGE sql AS $$
	SELECT spaza__post(p_key, p_reason, NULL, spaza__hash(p_reason, p_customer::text, p_points::text),
		jsonb_build_object('points', p_points, 'order', p_order, 'customer', p_customer),
		ARRAY[spaza__account('loyalty_issued', NULL), spaza__account('loyalty_points', p_customer)],
		ARRAY[p_points, -p_points]);
$$;

-- Earning: an order that becomes paid earns its customer points_per_rand per whole rand of its
-- total, once (the key is the order's).
CREATE FUNCTION spaza__loyalty_earn() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	v_points bigint;
BEGIN
	SELECT (NEW.total_cents / 100) * r.points_per_rand INTO v_points FROM loyalty_rules r;
	IF v_points > 0 THEN
		PERFORM spaza__points_post('loyalty:earn:' || NEW.id, 'loyalty_earn', NEW.id, NEW.customer_id, v_points);
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER orders_loyalty_earn AFTER UPDATE OF status ON orders FOR EACH ROW
	WHEN (NEW.status = 'paid' AND OLD.status IS DISTINCT FROM 'paid') EXECUTE FUNCTION spaza__loyalty_earn();

-- Refund reversal: a refund of an order takes back the points it earned in proportion to what
-- was refunded (all of them for a whole refund, or when a till reverses the slip payment), never more than were earned for the order nor
-- more than the customer still has. Deferred: the refund's entries are posted after its row.
CREATE FUNCTION spaza__loyalty_reverse() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	v_order orders%ROWTYPE;
	v_earned bigint;
	v_reversed bigint;
	v_refunded bigint;
	v_points bigint;
BEGIN
	SELECT * INTO v_order FROM orders o WHERE o.id = NEW.order_id;
	SELECT coalesce((t.result->>'points')::bigint, 0) INTO v_earned FROM ledger_txns t
		WHERE t.idem_key = 'loyalty:earn:' || NEW.order_id;
	IF coalesce(v_earned, 0) = 0 OR v_order.total_cents = 0 THEN
		RETURN NULL;
	END IF;
	SELECT coalesce(sum(e.amount_cents), 0) INTO v_refunded FROM ledger_txns t
		JOIN ledger_entries e ON e.txn_id = t.id JOIN ledger_accounts a ON a.id = e.account_id
		WHERE t.order_id = NEW.order_id AND t.reason = 'refund' AND a.kind = 'refunds';
	SELECT coalesce(sum(-(t.result->>'points')::bigint), 0) INTO v_reversed FROM ledger_txns t
		WHERE t.reason = 'loyalty_reverse' AND (t.result->>'order')::bigint = NEW.order_id;
	IF NEW.reason = 'reversal' THEN	-- a till took its slip payment back: the order is unpaid again
		v_refunded := v_order.total_cents;
	END IF;
	v_points := least(v_earned * least(v_refunded, v_order.total_cents) / v_order.total_cents - v_reversed,
			  spaza__points(v_order.customer_id));
	IF v_points > 0 THEN
		PERFORM spaza__points_post('loyalty:reverse:' || NEW.id, 'loyalty_reverse', NEW.order_id,
					   v_order.customer_id, -v_points);
	END IF;
	RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_txns_loyalty_reverse AFTER INSERT ON ledger_txns
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.reason IN ('refund', 'reversal') AND NEW.order_id IS NOT NULL)
	EXECUTE FUNCTION spaza__loyalty_reverse();

-- Expiry, first in first out: points earned before the cutoff (p_as_of less the expiry days)
-- that later use (reversal, expiry) has not taken yet expire. One posting per customer and day;
-- running it again the same day posts nothing more. Returns customers touched and points expired.
CREATE FUNCTION spaza_loyalty_expire(p_as_of timestamptz, OUT customers integer, OUT points bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_cutoff timestamptz;
	v_day text := to_char(p_as_of AT TIME ZONE 'UTC', 'YYYY-MM-DD');
	c record;
BEGIN
	SELECT p_as_of - make_interval(days => r.expiry_days) INTO v_cutoff FROM loyalty_rules r;
	customers := 0;
	points := 0;
	FOR c IN
		SELECT a.owner_id AS customer_id,
			(coalesce(-sum(e.amount_cents) FILTER (WHERE t.reason IN ('loyalty_earn', 'loyalty_referral')
								AND t.created_at < v_cutoff), 0)
			- coalesce(sum(e.amount_cents) FILTER (WHERE t.reason NOT IN ('loyalty_earn', 'loyalty_referral')), 0))::bigint AS due,
			(-sum(e.amount_cents))::bigint AS held
		FROM ledger_accounts a JOIN ledger_entries e ON e.account_id = a.id JOIN ledger_txns t ON t.id = e.txn_id
		WHERE a.kind = 'loyalty_points'
		GROUP BY a.owner_id
	LOOP
		CONTINUE WHEN least(c.due, c.held) <= 0
			OR EXISTS (SELECT 1 FROM ledger_txns t WHERE t.idem_key = 'loyalty:expire:' || c.customer_id || ':' || v_day);
		PERFORM pg_advisory_xact_lock(hashtext('loyalty:' || c.customer_id));
		PERFORM spaza__points_post('loyalty:expire:' || c.customer_id || ':' || v_day, 'loyalty_expire', NULL,
					   c.customer_id, -least(c.due, c.held));
		customers := customers + 1;
		points := points + least(c.due, c.held);
	END LOOP;
END $$;

-- A customer's points (SMS POINTS, the My account screen).
CREATE FUNCTION spaza_loyalty_points(p_customer bigint) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT spaza__points(p_customer);
$$;

CREATE FUNCTION spaza_loyalty_rules_set(p_points_per_rand integer, p_expiry_days integer) RETURNS void
LANGUAGE sql AS $$
	UPDATE loyalty_rules SET points_per_rand = p_points_per_rand, expiry_days = p_expiry_days
	WHERE (points_per_rand, expiry_days) IS DISTINCT FROM (p_points_per_rand, p_expiry_days);
$$;

-- A customer's points and their history, newest first: at, reason, order, points (+ earned, - taken).
CREATE FUNCTION spaza_loyalty_show(p_customer bigint)
RETURNS TABLE (at timestamptz, reason text, order_id bigint, points bigint, balance bigint)
LANGUAGE sql STABLE AS $$
	SELECT t.created_at, t.reason, (t.result->>'order')::bigint, -e.amount_cents, spaza__points(p_customer)
	FROM ledger_accounts a JOIN ledger_entries e ON e.account_id = a.id JOIN ledger_txns t ON t.id = e.txn_id
	WHERE a.kind = 'loyalty_points' AND a.owner_id = p_customer
	ORDER BY t.created_at DESC, t.id DESC;
$$;

-- The points' own invariants (spazactl ledger check runs these beside spaza_ledger_check()):
-- nobody holds negative points; an order earned at most once and never had more reversed than
-- it earned; the shop's promise equals what customers hold.
CREATE FUNCTION spaza_loyalty_check() RETURNS TABLE (invariant text, detail text)
LANGUAGE sql STABLE AS $$
	SELECT 'customer holds negative points', format('customer %s: %s points', a.owner_id, -sum(e.amount_cents))
	FROM ledger_accounts a JOIN ledger_entries e ON e.account_id = a.id
	WHERE a.kind = 'loyalty_points' GROUP BY a.owner_id HAVING sum(e.amount_cents) > 0
	UNION ALL
	SELECT 'points reversed beyond what the order earned', format('order %s: earned %s, reversed %s', t.result->>'order',
		sum((t.result->>'points')::bigint) FILTER (WHERE t.reason = 'loyalty_earn'),
		-sum((t.result->>'points')::bigint) FILTER (WHERE t.reason = 'loyalty_reverse'))
	FROM ledger_txns t WHERE t.reason IN ('loyalty_earn', 'loyalty_reverse') AND t.result->>'order' IS NOT NULL
	GROUP BY t.result->>'order'
	HAVING count(*) FILTER (WHERE t.reason = 'loyalty_earn') > 1
	    OR coalesce(-sum((t.result->>'points')::bigint) FILTER (WHERE t.reason = 'loyalty_reverse'), 0)
	       > coalesce(sum((t.result->>'points')::bigint) FILTER (WHERE t.reason = 'loyalty_earn'), 0)
	UNION ALL
	SELECT 'points promised differ from points held', format('issued %s, held %s', i.bal, h.bal)
	FROM (SELECT coalesce(sum(e.amount_cents), 0) AS bal FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
	      WHERE a.kind = 'loyalty_issued') i,
	     (SELECT coalesce(-sum(e.amount_cents), 0) AS bal FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
	      WHERE a.kind = 'loyalty_points') h
	WHERE i.bal <> h.bal;
$$;

ALTER FUNCTION spaza__points SET search_path = public, pg_temp;
ALTER FUNCTION spaza__points_post SET search_path = public, pg_temp;
ALTER FUNCTION spaza__loyalty_earn SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza__loyalty_reverse SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_loyalty_expire SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_loyalty_points SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_loyalty_rules_set SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_loyalty_show SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_loyalty_check SECURITY DEFINER SET search_path = public, pg_temp;
DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT EXECUTE ON FUNCTION spaza_loyalty_expire, spaza_loyalty_rules_set, spaza_loyalty_points, spaza_loyalty_show,
			spaza_loyalty_check TO spaza_app;
	END IF;
END $$;

------------------------------------------------------------------------------------------
-- Referrals: every customer has a referral code; a new customer enters someone's code once;
-- when the referee's first order is paid, both get points (loyalty_referral postings with
-- their keys); a refund of that order takes them back (the loyalty_reverse trigger above
-- covers every posting that names the order). Limits against abuse, each refusal counted by
-- its outcome: no own code, only new numbers (no paid order yet, first seen within
-- referral_new_days), one referrer per referee, at most referral_month_cap referees per
-- referrer per calendar month.

ALTER TABLE ledger_txns DROP CONSTRAINT ledger_txns_reason_check;
ALTER TABLE ledger_txns ADD CONSTRAINT ledger_txns_reason_check CHECK (reason IN ('order_payment', 'voucher_sale',
	'voucher_redeem', 'credit_payment', 'credit_repayment', 'slip_payment', 'reversal', 'refund',
	'store_credit_payment', 'cod_payment', 'loyalty_earn', 'loyalty_reverse', 'loyalty_expire', 'loyalty_referral'));

ALTER TABLE loyalty_rules
	ADD COLUMN referral_points    integer NOT NULL DEFAULT 50 CHECK (referral_points BETWEEN 0 AND 100000),
	ADD COLUMN referral_month_cap integer NOT NULL DEFAULT 10 CHECK (referral_month_cap BETWEEN 0 AND 1000),
	ADD COLUMN referral_new_days  integer NOT NULL DEFAULT 30 CHECK (referral_new_days BETWEEN 1 AND 365);

CREATE TABLE referral_codes (
	customer_id bigint PRIMARY KEY REFERENCES customers(id),
	code        text NOT NULL UNIQUE CHECK (code ~ '^[1-9][0-9]{5}$')
);

CREATE TABLE referrals (
	referee_id  bigint PRIMARY KEY REFERENCES customers(id),	-- one referrer per referee, ever
	referrer_id bigint NOT NULL REFERENCES customers(id),
	at          timestamptz NOT NULL DEFAULT now(),
	order_id    bigint REFERENCES orders(id),		-- the first paid order that rewarded it
	rewarded_at timestamptz,
	CHECK (referee_id <> referrer_id)
);
CREATE INDEX referrals_by_referrer ON referrals (referrer_id, at);

-- Every attempt and its outcome, for the counts (spazactl referral stats) and abuse review.
CREATE TABLE referral_attempts (
	id          bigserial PRIMARY KEY,
	referee_id  bigint NOT NULL REFERENCES customers(id),
	code        text NOT NULL,
	outcome     text NOT NULL CHECK (outcome IN ('ok', 'unknown_code', 'own_code', 'not_new', 'already',
						     'month_cap', 'rewarded', 'reward_reversed')),
	at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX referral_attempts_by_outcome ON referral_attempts (outcome, at);

-- A customer's code: six digits (short enough to type on USSD or after a service code), made once.
CREATE FUNCTION spaza_referral_code(p_customer bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	v_code text;
BEGIN
	SELECT r.code INTO v_code FROM referral_codes r WHERE r.customer_id = p_customer;
	WHILE v_code IS NULL LOOP
		INSERT INTO referral_codes (customer_id, code)
			VALUES (p_customer, (100000 + floor(random() * 900000))::int::text)
			ON CONFLICT DO NOTHING RETURNING code INTO v_code;
		IF v_code IS NULL THEN	-- the code was taken, or a concurrent call made this customer's
			SELECT r.code INTO v_code FROM referral_codes r WHERE r.customer_id = p_customer;
		END IF;
	END LOOP;
	RETURN v_code;
END $$;

-- A customer enters a code: the outcome word (see referral_attempts), recorded either way.
CREATE FUNCTION spaza_referral_enter(p_referee bigint, p_code text, OUT outcome text) LANGUAGE plpgsql AS $$
DECLARE
	v_referrer bigint;
	v_rules loyalty_rules%ROWTYPE;
BEGIN
	SELECT * INTO v_rules FROM loyalty_rules;
	PERFORM pg_advisory_xact_lock(hashtext('referral:' || p_referee));
	SELECT r.customer_id INTO v_referrer FROM referral_codes r WHERE r.code = btrim(p_code);
	IF v_referrer IS NULL THEN
		outcome := 'unknown_code';
	ELSIF v_referrer = p_referee THEN
		outcome := 'own_code';
	ELSIF EXISTS (SELECT 1 FROM referrals f WHERE f.referee_id = p_referee) THEN
		outcome := 'already';
	ELSIF EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = p_referee AND o.paid_at IS NOT NULL)
	   OR (SELECT c.created_at FROM customers c WHERE c.id = p_referee) < now() - make_interval(days => v_rules.referral_new_days) THEN
		outcome := 'not_new';
	ELSE
		PERFORM pg_advisory_xact_lock(hashtext('referrer:' || v_referrer));
		IF (SELECT count(*) FROM referrals f WHERE f.referrer_id = v_referrer
		    AND f.at >= date_trunc('month', now())) >= v_rules.referral_month_cap THEN
			outcome := 'month_cap';
		ELSE
			INSERT INTO referrals (referee_id, referrer_id) VALUES (p_referee, v_referrer);
			outcome := 'ok';
		END IF;
	END IF;
	INSERT INTO referral_attempts (referee_id, code, outcome) VALUES (p_referee, left(p_code, 16), outcome);
END $$;

-- The referee's first paid order rewards both, once (keys by referee).
CREATE FUNCTION spaza__referral_reward() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	v_ref referrals%ROWTYPE;
	v_points integer;
BEGIN
	SELECT * INTO v_ref FROM referrals f WHERE f.referee_id = NEW.customer_id AND f.order_id IS NULL FOR UPDATE;
	IF NOT FOUND OR EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = NEW.customer_id AND o.id <> NEW.id
				AND o.paid_at IS NOT NULL) THEN
		RETURN NULL;
	END IF;
	SELECT r.referral_points INTO v_points FROM loyalty_rules r;
	UPDATE referrals SET order_id = NEW.id, rewarded_at = now() WHERE referee_id = NEW.customer_id;
	IF v_points > 0 THEN
		PERFORM spaza__points_post('loyalty:referral:' || NEW.customer_id || ':referee', 'loyalty_referral', NEW.id,
					   NEW.customer_id, v_points);
		PERFORM spaza__points_post('loyalty:referral:' || NEW.customer_id || ':referrer', 'loyalty_referral', NEW.id,
					   v_ref.referrer_id, v_points);
	END IF;
	INSERT INTO referral_attempts (referee_id, code, outcome)
		VALUES (NEW.customer_id, (SELECT code FROM referral_codes WHERE customer_id = v_ref.referrer_id), 'rewarded');
	RETURN NULL;
END $$;
CREATE TRIGGER orders_referral_reward AFTER UPDATE OF status ON orders FOR EACH ROW
	WHEN (NEW.status = 'paid' AND OLD.status IS DISTINCT FROM 'paid') EXECUTE FUNCTION spaza__referral_reward();

-- A refund of the rewarding order takes both rewards back, whole (as much as each still has).
CREATE FUNCTION spaza__referral_reverse() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	t record;
	v_points bigint;
BEGIN
	FOR t IN SELECT x.idem_key, (x.result->>'customer')::bigint AS customer_id, (x.result->>'points')::bigint AS points
		 FROM ledger_txns x WHERE x.reason = 'loyalty_referral' AND (x.result->>'order')::bigint = NEW.order_id
		   AND NOT EXISTS (SELECT 1 FROM ledger_txns y WHERE y.idem_key = x.idem_key || ':reversed') LOOP
		v_points := least(t.points, spaza__points(t.customer_id));
		IF v_points > 0 THEN
			PERFORM spaza__points_post(t.idem_key || ':reversed', 'loyalty_reverse', NULL, t.customer_id, -v_points);
		END IF;
		IF t.idem_key LIKE '%:referee' THEN
			INSERT INTO referral_attempts (referee_id, code, outcome) VALUES (t.customer_id, '', 'reward_reversed');
		END IF;
	END LOOP;
	RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_txns_referral_reverse AFTER INSERT ON ledger_txns
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.reason IN ('refund', 'reversal') AND NEW.order_id IS NOT NULL)
	EXECUTE FUNCTION spaza__referral_reverse();

-- The counts of referral outcomes since p_since: outcome, how many.
CREATE FUNCTION spaza_referral_stats(p_since timestamptz) RETURNS TABLE (outcome text, n bigint)
LANGUAGE sql STABLE AS $$
	SELECT a.outcome, count(*) FROM referral_attempts a WHERE a.at >= coalesce(p_since, '-infinity')
	GROUP BY a.outcome ORDER BY a.outcome;
$$;

ALTER FUNCTION spaza_referral_code SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_referral_enter SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza__referral_reward SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza__referral_reverse SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_referral_stats SECURITY DEFINER SET search_path = public, pg_temp;
DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT EXECUTE ON FUNCTION spaza_referral_code, spaza_referral_enter, spaza_referral_stats TO spaza_app;
	END IF;
END $$;
