-- Spaza schema, step 15: knowing customers (doc/crm.md): RFM scores and named segments, the
-- shop's rule segments, campaigns with consent, quiet hours and a frequency cap, and the
-- indexes the funnel and the reports read through.
--
-- RFM is kept current INCREMENTALLY: a trigger on orders moves one customer_rfm row when an
-- order becomes paid (or leaves paid: cancelled, refunded), so nothing scans all orders per
-- order. Recency decays with time alone, so a nightly sweep (spazad's, batched, or `spazactl
-- segments recompute`) rebuilds the rows from the orders in customer-id batches.
--
-- The thresholds live in spazad's configuration (`crm rfm ...`, `crm segments ...`); spazad
-- and spazactl copy them into crm_settings, the one row the trigger reads, before they score.

CREATE TABLE crm_settings (
	one          boolean PRIMARY KEY DEFAULT true CHECK (one),
	-- a paid order within r_days[1] days scores recency 5, within [2] 4, [3] 3, [4] 2, else 1
	r_days       integer[] NOT NULL DEFAULT '{7,30,90,180}' CHECK (cardinality(r_days) = 4),
	-- at least f_orders[1] paid orders score frequency 5, [2] 4, [3] 3, [4] 2, else 1
	f_orders     integer[] NOT NULL DEFAULT '{10,5,3,2}' CHECK (cardinality(f_orders) = 4),
	-- at least m_cents[1] spent scores monetary 5, [2] 4, [3] 3, [4] 2, else 1
	m_cents      bigint[] NOT NULL DEFAULT '{200000,100000,50000,20000}' CHECK (cardinality(m_cents) = 4),
	top_score    integer NOT NULL DEFAULT 12,	-- r + f + m at least this: top
	new_days     integer NOT NULL DEFAULT 30,	-- first paid order within: new
	lapsed_days  integer NOT NULL DEFAULT 90,	-- no paid order within: lapsed
	updated_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO crm_settings DEFAULT VALUES;

-- One row per customer with at least one paid order; a customer with none is in no named segment.
CREATE TABLE customer_rfm (
	customer_id   bigint PRIMARY KEY REFERENCES customers(id),
	first_paid_at timestamptz NOT NULL,
	last_paid_at  timestamptz NOT NULL,
	orders_paid   integer NOT NULL CHECK (orders_paid > 0),
	spent_cents   bigint NOT NULL,
	r             smallint NOT NULL CHECK (r BETWEEN 1 AND 5),
	f             smallint NOT NULL CHECK (f BETWEEN 1 AND 5),
	m             smallint NOT NULL CHECK (m BETWEEN 1 AND 5),
	segment       text NOT NULL CHECK (segment IN ('top', 'average', 'once-off', 'new', 'lapsed')),
	scored_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_rfm_by_segment ON customer_rfm (segment, customer_id);

-- The scores and the named segment of one history, at p_now, under crm_settings. The order of
-- the segment tests is the meaning: lapsed first (gone quiet whatever they spent), then new
-- (first paid order recent), once-off (one paid order, not new), top (by score), average.
CREATE FUNCTION spaza__rfm_score(p_first timestamptz, p_last timestamptz, p_n integer, p_spent bigint,
	p_now timestamptz, OUT r smallint, OUT f smallint, OUT m smallint, OUT segment text)
LANGUAGE plpgsql STABLE SET search_path = public, pg_temp AS $$
DECLARE
	s record;
BEGIN
	SELECT * INTO s FROM crm_settings;
	r := CASE WHEN p_last >= p_now - make_interval(days => s.r_days[1]) THEN 5
		  WHEN p_last >= p_now - make_interval(days => s.r_days[2]) THEN 4
		  WHEN p_last >= p_now - make_interval(days => s.r_days[3]) THEN 3
		  WHEN p_last >= p_now - make_interval(days => s.r_days[4]) THEN 2 ELSE 1 END;
	f := CASE WHEN p_n >= s.f_orders[1] THEN 5 WHEN p_n >= s.f_orders[2] THEN 4
		  WHEN p_n >= s.f_orders[3] THEN 3 WHEN p_n >= s.f_orders[4] THEN 2 ELSE 1 END;
	m := CASE WHEN p_spent >= s.m_cents[1] THEN 5 WHEN p_spent >= s.m_cents[2] THEN 4
		  WHEN p_spent >= s.m_cents[3] THEN 3 WHEN p_spent >= s.m_cents[4] THEN 2 ELSE 1 END;
	segment := CASE WHEN p_last < p_now - make_interval(days => s.lapsed_days) THEN 'lapsed'
		  WHEN p_first >= p_now - make_interval(days => s.new_days) THEN 'new'
		  WHEN p_n = 1 THEN 'once-off'
		  WHEN r + f + m >= s.top_score THEN 'top'
		  ELSE 'average' END;
END $$;

-- The incremental step: an order enters or leaves the paid family (paid, shipped, delivered).
-- Entering adds it to the customer's row; leaving (cancelled, refunded) takes it out; the last
-- paid time of a row an order left is the nightly sweep's to correct.
-- Entering scores the merged values in the upsert itself, so the row is written once inside the
-- payment's transaction (which holds the customer's connection); leaving is rare and keeps two
-- steps.
CREATE FUNCTION spaza__rfm_order() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	v_now boolean := NEW.status IN ('paid', 'shipped', 'delivered');
	v_was boolean := TG_OP = 'UPDATE' AND OLD.status IN ('paid', 'shipped', 'delivered');
	v_at timestamptz := coalesce(NEW.paid_at, now());
BEGIN
	IF v_now = v_was THEN
		RETURN NULL;
	END IF;
	IF v_now THEN
		INSERT INTO customer_rfm AS c (customer_id, first_paid_at, last_paid_at, orders_paid, spent_cents, r, f, m, segment)
		SELECT NEW.customer_id, v_at, v_at, 1, NEW.total_cents, s.r, s.f, s.m, s.segment
		FROM spaza__rfm_score(v_at, v_at, 1, NEW.total_cents, now()) s
		ON CONFLICT (customer_id) DO UPDATE SET (first_paid_at, last_paid_at, orders_paid, spent_cents, r, f, m,
							 segment, scored_at) =
			(SELECT least(c.first_paid_at, v_at), greatest(c.last_paid_at, v_at), c.orders_paid + 1,
				c.spent_cents + NEW.total_cents, s.r, s.f, s.m, s.segment, now()
			 FROM spaza__rfm_score(least(c.first_paid_at, v_at), greatest(c.last_paid_at, v_at),
					       c.orders_paid + 1, c.spent_cents + NEW.total_cents, now()) s);
		RETURN NULL;
	END IF;
	UPDATE customer_rfm SET orders_paid = orders_paid - 1, spent_cents = spent_cents - NEW.total_cents
	WHERE customer_id = NEW.customer_id AND orders_paid > 1;
	IF NOT FOUND THEN
		DELETE FROM customer_rfm WHERE customer_id = NEW.customer_id;
		RETURN NULL;
	END IF;
	UPDATE customer_rfm c SET (r, f, m, segment, scored_at) =
		(SELECT s.r, s.f, s.m, s.segment, now()
		 FROM spaza__rfm_score(c.first_paid_at, c.last_paid_at, c.orders_paid, c.spent_cents, now()) s)
	WHERE c.customer_id = NEW.customer_id;
	RETURN NULL;
END $$;
CREATE TRIGGER orders_rfm_status AFTER UPDATE OF status ON orders
	FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION spaza__rfm_order();
CREATE TRIGGER orders_rfm_insert AFTER INSERT ON orders
	FOR EACH ROW WHEN (NEW.status IN ('paid', 'shipped', 'delivered')) EXECUTE FUNCTION spaza__rfm_order();

-- The thresholds of the configuration, copied in by spazad at start and before each sweep, and
-- by spazactl before it scores.
CREATE FUNCTION spaza_crm_settings_set(p_r integer[], p_f integer[], p_m bigint[], p_top integer, p_new integer,
	p_lapsed integer) RETURNS void LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	UPDATE crm_settings SET r_days = p_r, f_orders = p_f, m_cents = p_m, top_score = p_top, new_days = p_new,
		lapsed_days = p_lapsed, updated_at = now()
	WHERE (r_days, f_orders, m_cents, top_score, new_days, lapsed_days)
		IS DISTINCT FROM (p_r, p_f, p_m, p_top, p_new, p_lapsed);
END $$;

-- One batch of the nightly rebuild: the customers after p_after, p_batch of them, from their
-- orders. Returns the last customer id done (the next batch's p_after), NULL when none is left.
-- A batch is one short statement, so the sweep never holds the daemon's connection for long.
CREATE FUNCTION spaza_rfm_recompute(p_after bigint, p_batch integer) RETURNS bigint LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	v_last bigint;
BEGIN
	SELECT max(id) INTO v_last FROM (SELECT id FROM customers WHERE id > p_after ORDER BY id LIMIT p_batch) c;
	IF v_last IS NULL THEN
		RETURN NULL;
	END IF;
	WITH agg AS (SELECT o.customer_id, min(coalesce(o.paid_at, o.created_at)) AS fp,
			max(coalesce(o.paid_at, o.created_at)) AS lp, count(*)::integer AS n, sum(o.total_cents)::bigint AS sp
		FROM orders o WHERE o.customer_id > p_after AND o.customer_id <= v_last
			AND o.status IN ('paid', 'shipped', 'delivered')
		GROUP BY o.customer_id),
	gone AS (DELETE FROM customer_rfm r WHERE r.customer_id > p_after AND r.customer_id <= v_last
		AND NOT EXISTS (SELECT 1 FROM agg WHERE agg.customer_id = r.customer_id))
	INSERT INTO customer_rfm AS c (customer_id, first_paid_at, last_paid_at, orders_paid, spent_cents, r, f, m,
		segment, scored_at)
	SELECT b.customer_id, b.fp, b.lp, b.n, b.sp, s.r, s.f, s.m, s.segment, now()
	FROM agg b, LATERAL spaza__rfm_score(b.fp, b.lp, b.n, b.sp, now()) s
	ON CONFLICT (customer_id) DO UPDATE SET first_paid_at = EXCLUDED.first_paid_at,
		last_paid_at = EXCLUDED.last_paid_at, orders_paid = EXCLUDED.orders_paid,
		spent_cents = EXCLUDED.spent_cents, r = EXCLUDED.r, f = EXCLUDED.f, m = EXCLUDED.m,
		segment = EXCLUDED.segment, scored_at = EXCLUDED.scored_at;
	RETURN v_last;
END $$;

-- ---- Rule segments: the shop's own, by name; the rule is stored as spazactl wrote it back
-- (src/domain/segment_rule.c parses it; the members are counted live, never stored).
CREATE TABLE crm_segments (
	name       text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_-]{0,31}$'),
	rule       text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);

-- Customers with a care ticket not yet resolved. care_tickets comes with the care work
-- (sql/011_care.sql); until it is there, nobody has an open ticket and the rule selects no one.
CREATE FUNCTION spaza_crm_open_ticket_customers() RETURNS SETOF bigint LANGUAGE plpgsql STABLE
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	IF to_regclass('care_tickets') IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY EXECUTE 'SELECT DISTINCT customer_id FROM care_tickets WHERE state IN (''open'', ''waiting'')';
END $$;

-- The members of a rule: every condition given (not NULL / true) must hold. Parameters as
-- segment_rule.h describes them; a condition not given is true before its subquery runs.
CREATE FUNCTION spaza_segment_members(p_category text, p_within integer, p_spent_over bigint, p_lang text,
	p_credit_due boolean, p_open_ticket boolean, p_opted_in boolean, p_segment text)
RETURNS TABLE (customer_id bigint, msisdn text, lang text) LANGUAGE plpgsql STABLE
SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
BEGIN
	RETURN QUERY SELECT c.id, c.msisdn, c.lang FROM customers c LEFT JOIN customer_rfm r ON r.customer_id = c.id
	WHERE (p_segment IS NULL OR r.segment = p_segment)
	  AND (p_spent_over IS NULL OR r.spent_cents > p_spent_over)
	  AND (p_lang IS NULL OR c.lang = p_lang)
	  AND (NOT p_opted_in OR NOT c.opt_out)
	  -- the subqueries are uncorrelated: each runs once (by the time index), hashed
	  AND (p_category IS NULL OR c.id IN (SELECT o.customer_id FROM orders o JOIN products p ON p.id = o.product_id
		JOIN categories k ON k.id = p.category_id
		WHERE o.created_at >= now() - make_interval(days => p_within)
		  AND o.status IN ('paid', 'shipped', 'delivered')
		  AND (k.id::text = p_category OR lower(k.name) = lower(p_category))))
	  AND (NOT p_credit_due OR c.id IN (SELECT cl.customer_id FROM credit_lines cl
		WHERE cl.used_cents > (SELECT coalesce(sum(h.amount_cents), 0) FROM holds h
			WHERE h.customer_id = cl.customer_id AND h.status = 'pending')))
	  AND (NOT p_open_ticket OR c.id IN (SELECT spaza_crm_open_ticket_customers()));
END $$;

-- ---- Campaigns (src/domain/campaign.c sends, admin/ctl_campaign.c composes and reports)
CREATE TABLE campaigns (
	id         serial PRIMARY KEY,
	name       text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9_-]{0,31}$'),
	-- the text in each language, with placeholders, without the opt-out footer
	text_en    text NOT NULL,
	text_zu    text NOT NULL,
	text_af    text NOT NULL,
	offer      text NOT NULL DEFAULT '',
	segment    text,		-- the segment named at creation (NULL: an inline rule)
	rule       text NOT NULL,	-- the audience, as segment_rule.c writes rules
	start_at   timestamptz NOT NULL,
	keyword    text UNIQUE CHECK (keyword ~ '^[A-Z0-9]{2,16}$'),
	dial_code  text UNIQUE CHECK (dial_code ~ '^\*120\*777\*[0-9]{1,6}#$'),
	state      text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'running', 'paused', 'done')),
	created_at timestamptz NOT NULL DEFAULT now(),
	started_at timestamptz
);

-- The audience, fixed when the campaign starts; each row is decided once: queued (an SMS row),
-- opted_out (no consent when its turn came) or capped (the frequency cap was reached).
CREATE TABLE campaign_recipients (
	campaign_id integer NOT NULL REFERENCES campaigns(id),
	customer_id bigint NOT NULL REFERENCES customers(id),
	state       text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'queued', 'opted_out', 'capped')),
	sms_id      bigint REFERENCES sms_messages(id),
	decided_at  timestamptz,
	PRIMARY KEY (campaign_id, customer_id),
	CHECK ((state = 'queued') = (sms_id IS NOT NULL))
);
CREATE INDEX campaign_recipients_pending ON campaign_recipients (campaign_id, customer_id) WHERE state = 'pending';
-- the frequency cap counts a customer's recent marketing SMS through sms_messages_by_customer
CREATE INDEX campaign_recipients_by_customer ON campaign_recipients (customer_id, decided_at);

-- The customer timeline's CRM rows (the contract of the timeline views: customer_id, at, kind,
-- ref, summary): what each campaign decided for the customer. The SMS itself is on the timeline
-- with the other SMS.
CREATE VIEW timeline_crm AS
	SELECT cr.customer_id, cr.decided_at AS at,
		CASE cr.state WHEN 'queued' THEN 'campaign_sms' WHEN 'opted_out' THEN 'campaign_no_consent'
			ELSE 'campaign_capped' END AS kind,
		k.name AS ref,
		CASE cr.state WHEN 'queued' THEN 'campaign ' || k.name || ': SMS queued'
			WHEN 'opted_out' THEN 'campaign ' || k.name || ': not sent, opted out'
			ELSE 'campaign ' || k.name || ': not sent, frequency cap reached' END AS summary
	FROM campaign_recipients cr JOIN campaigns k ON k.id = cr.campaign_id
	WHERE cr.decided_at IS NOT NULL;

-- A campaign's text for one customer: placeholders filled, the footer of the language added.
-- {name}: no names are kept yet (the profile work adds them): it becomes nothing. {points}: no
-- loyalty yet: 0. {offer}: the campaign's offer line.
CREATE FUNCTION spaza__campaign_text(p_c campaigns, p_lang text, p_footer text) RETURNS text LANGUAGE sql
IMMUTABLE SET search_path = public, pg_temp AS $$
	SELECT btrim(regexp_replace(replace(replace(replace(
		CASE p_lang WHEN 'zu' THEN p_c.text_zu WHEN 'af' THEN p_c.text_af ELSE p_c.text_en END,
		'{name}', ''), '{points}', '0'), '{offer}', p_c.offer), ' +([ ,.!?])', '\1', 'g')) || ' ' || p_footer
$$;

-- Up to p_n recipients of running, due campaigns, one at a time so that the cap also holds
-- between two campaigns reaching the same customer in one batch: consent (opt_out) and the cap
-- (p_cap marketing SMS per p_days days) are checked as each row's turn comes, then its SMS row
-- is queued for the outbox. The caller (spazad's token bucket) decides when and how many.
-- Returns how many of each outcome.
CREATE FUNCTION spaza_campaign_dispatch(p_n integer, p_cap integer, p_days integer, p_footer_en text,
	p_footer_zu text, p_footer_af text, OUT queued integer, OUT opted_out integer, OUT capped integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
	v record;
	v_sent integer;
	v_sms bigint;
BEGIN
	queued := 0; opted_out := 0; capped := 0;
	FOR v IN SELECT cr.campaign_id, cr.customer_id, c.opt_out, c.lang, k AS camp
		FROM campaign_recipients cr JOIN campaigns k ON k.id = cr.campaign_id
		JOIN customers c ON c.id = cr.customer_id
		WHERE cr.state = 'pending' AND k.state = 'running' AND k.start_at <= now()
		ORDER BY cr.campaign_id, cr.customer_id LIMIT p_n FOR UPDATE OF cr SKIP LOCKED
	LOOP
		IF v.opt_out THEN
			UPDATE campaign_recipients SET state = 'opted_out', decided_at = now()
			WHERE campaign_id = v.campaign_id AND customer_id = v.customer_id;
			opted_out := opted_out + 1;
			CONTINUE;
		END IF;
		SELECT count(*) INTO v_sent FROM sms_messages m WHERE m.customer_id = v.customer_id
			AND m.kind = 'marketing' AND m.status IN ('queued', 'sent', 'delivered')
			AND m.created_at > now() - make_interval(days => p_days);
		IF v_sent >= p_cap THEN
			UPDATE campaign_recipients SET state = 'capped', decided_at = now()
			WHERE campaign_id = v.campaign_id AND customer_id = v.customer_id;
			capped := capped + 1;
			CONTINUE;
		END IF;
		INSERT INTO sms_messages (customer_id, direction, kind, text, status)
		VALUES (v.customer_id, 'out', 'marketing', spaza__campaign_text(v.camp, v.lang,
			CASE v.lang WHEN 'zu' THEN p_footer_zu WHEN 'af' THEN p_footer_af ELSE p_footer_en END), 'queued')
		RETURNING id INTO v_sms;
		UPDATE campaign_recipients SET state = 'queued', sms_id = v_sms, decided_at = now()
		WHERE campaign_id = v.campaign_id AND customer_id = v.customer_id;
		queued := queued + 1;
	END LOOP;
	-- a running campaign with nobody left to decide is done
	UPDATE campaigns k SET state = 'done' WHERE k.state = 'running' AND k.start_at <= now()
		AND NOT EXISTS (SELECT 1 FROM campaign_recipients cr WHERE cr.campaign_id = k.id AND cr.state = 'pending');
END $$;

-- ---- The funnel and the reports read the history by time
-- Sessions are written in time order, so a BRIN range index finds a month of them as fast as a
-- B-tree at a fraction of its size and write cost, and it cannot return rows in order: the
-- planner never prefers it over ussd_sessions_by_customer for a customer's timeline page
-- (a B-tree here did, for customers with few sessions, scanning everyone's newest first).
CREATE INDEX IF NOT EXISTS ussd_sessions_by_start ON ussd_sessions USING brin (started_at);
CREATE INDEX IF NOT EXISTS orders_by_created ON orders (created_at);
CREATE INDEX IF NOT EXISTS sms_messages_by_created ON sms_messages (created_at) WHERE direction = 'in';

-- ---- What spazad may do (sql/006_roles.sql): score and sweep through the functions above,
-- dispatch campaigns; staff (the owner) define segments and campaigns through spazactl.
REVOKE EXECUTE ON FUNCTION spaza__rfm_score, spaza__rfm_order, spaza__campaign_text, spaza_segment_members,
	spaza_crm_open_ticket_customers FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spaza_crm_settings_set, spaza_rfm_recompute, spaza_campaign_dispatch TO spaza_app;
