-- Spaza schema, step 27: the journey funnel from a daily roll-up (issue 13, "The journey").
--
-- The funnel (spazactl funnel, the back office's Funnel page) took every session of the period
-- apart into its screens at each ask: 2.8 s for 30 days at a million customers, most of it
-- joining half a million sessions to their customers' language and segment. Now:
--   * a session row says what it was when it ended: the language its screens were shown in,
--     the customer's named segment, the version of the menu it walked (spazad writes them with
--     the row; rows from before this step get their customer's language and segment as they
--     were at this migration, and no version);
--   * funnel_daily holds, per UTC day x screen x front end x language x segment x menu version,
--     the entries, the exits by kind, the backs, the sessions through it that ordered and the
--     seconds per hop summed. A statement trigger on ussd_sessions adds every batch of new rows
--     in the same transaction: spazad's timeline batches on its lazy connection (never a hop's
--     statement), a seeding script's INSERT, anything. What the insert skipped (ON CONFLICT DO
--     NOTHING) is not in its transition table, and a lost batch loses its roll-up with it, so
--     the roll-up is exact whatever happens: no job to run, no day to close;
--   * spaza_funnel() reads whole UTC days from the roll-up and the part of a day before them
--     from the sessions themselves; paid is asked of the orders at read time (an order is paid,
--     shipped or refunded long after its session), over the sessions that ordered, which a
--     partial index finds;
--   * spaza_funnel(since, by, true) computes everything from the sessions (the check), and
--     spaza_funnel_rebuild() makes the roll-up again from them (after a restore, or rows edited
--     by hand: nothing in Spaza updates or deletes a session).
-- Both paths take sessions apart with the one function, spaza__funnel_screens(), so they cannot
-- count differently: tests/integration/funnel.sh compares them.

------------------------------------------------------------------------------------------
-- What a session was

ALTER TABLE ussd_sessions ADD COLUMN lang text, ADD COLUMN segment text, ADD COLUMN menu_version text;
UPDATE ussd_sessions s SET lang = c.lang, segment = coalesce(r.segment, 'none')
	FROM customers c LEFT JOIN customer_rfm r ON r.customer_id = c.id WHERE c.id = s.customer_id;
-- the sessions that ordered, by start: the funnel's paid column reads them and their orders
CREATE INDEX ussd_sessions_ordered ON ussd_sessions (started_at) WHERE order_id IS NOT NULL;

------------------------------------------------------------------------------------------
-- The roll-up

CREATE TABLE funnel_daily (
	day          date NOT NULL,		-- the UTC day the sessions started
	screen       text NOT NULL,
	channel      text NOT NULL,
	lang         text NOT NULL,		-- '-': not recorded
	segment      text NOT NULL,		-- 'none': no paid order yet
	menu_version text NOT NULL,		-- '-': from before versions were recorded
	entries      bigint NOT NULL,		-- times the screen was shown
	ended        bigint NOT NULL,		-- sessions that ended here: completed
	timeouts     bigint NOT NULL,		-- ... the customer stopped answering
	abandons     bigint NOT NULL,		-- ... hung up, or dialled again
	errors       bigint NOT NULL,		-- ... on an error
	backs        bigint NOT NULL,		-- the next screen was the one before
	ordered      bigint NOT NULL,		-- entries of sessions that ended with an order
	secs         numeric NOT NULL,		-- per entry, its session's seconds per hop, summed
	PRIMARY KEY (day, screen, channel, lang, segment, menu_version)
);

-- Sessions as roll-up rows, the one place that says how a session counts: grouped first (trails
-- repeat, so only the distinct ones are taken apart, each weighted by its sessions), each trail
-- then taken apart into its screens. A screen is an exit when it is the trail's last, a back
-- when the screen after it is the one before it. The sessions come as an array because both a
-- trigger's transition table and a range of the table must get here; the callers keep one to
-- a day's sessions or one statement's. p_weights[i]: how many sessions p_sessions[i] stands for
-- (NULL: one each), for a caller that grouped them itself.
CREATE FUNCTION spaza__funnel_screens(p_sessions ussd_sessions[], p_weights bigint[] DEFAULT NULL)
RETURNS SETOF funnel_daily LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN QUERY
	WITH g AS (
		SELECT (s.started_at AT TIME ZONE 'UTC')::date AS day, s.screens, s.channel, coalesce(s.lang, '-') AS lang,
			coalesce(s.segment, 'none') AS segment, coalesce(s.menu_version, '-') AS menu_version, s.outcome,
			s.order_id IS NOT NULL AS ordered, sum(coalesce(p_weights[s.ordinality], 1)) AS n,
			sum(coalesce(p_weights[s.ordinality], 1) * extract(epoch FROM s.ended_at - s.started_at)
				/ greatest(s.hops, 1)) AS secs
		FROM unnest(p_sessions) WITH ORDINALITY s WHERE s.screens <> '' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8)
	SELECT g.day, x.scr, g.channel, g.lang, g.segment, g.menu_version, sum(g.n)::bigint,
		coalesce(sum(g.n) FILTER (WHERE x.i = cardinality(t) AND g.outcome = 'completed'), 0)::bigint,
		coalesce(sum(g.n) FILTER (WHERE x.i = cardinality(t) AND g.outcome = 'timeout'), 0)::bigint,
		coalesce(sum(g.n) FILTER (WHERE x.i = cardinality(t) AND g.outcome = 'abandoned'), 0)::bigint,
		coalesce(sum(g.n) FILTER (WHERE x.i = cardinality(t) AND g.outcome = 'error'), 0)::bigint,
		coalesce(sum(g.n) FILTER (WHERE x.i < cardinality(t) AND x.nxt = x.prv), 0)::bigint,
		coalesce(sum(g.n) FILTER (WHERE g.ordered), 0)::bigint, sum(g.secs)
	FROM g, string_to_array(g.screens, ' ') t,
		unnest(t, t[2:], ARRAY[NULL]::text[] || t) WITH ORDINALITY x(scr, nxt, prv, i)
	WHERE x.scr IS NOT NULL
	GROUP BY 1, 2, 3, 4, 5, 6;
END $$;

-- The roll-up rows of the sessions that started in [p_from, p_to), from the sessions themselves,
-- a UTC day at a time (an array holds a day's sessions, never a year's). An infinite end stands
-- for the first or the last session.
CREATE FUNCTION spaza__funnel_raw(p_from timestamptz, p_to timestamptz) RETURNS SETOF funnel_daily
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_day timestamptz := p_from;
	v_to timestamptz := p_to;
	v_next timestamptz;
BEGIN
	IF NOT (isfinite(p_from) AND isfinite(p_to)) THEN
		SELECT greatest(p_from, min(s.started_at)), least(p_to, max(s.started_at) + interval '1 microsecond')
			INTO v_day, v_to FROM ussd_sessions s WHERE s.started_at >= p_from AND s.started_at < p_to;
		IF NOT isfinite(v_day) OR NOT isfinite(v_to) THEN
			RETURN;	-- no session in the range (greatest and least pass over the NULLs)
		END IF;
	END IF;
	WHILE v_day < v_to LOOP
		v_next := least(v_to, (date_trunc('day', v_day AT TIME ZONE 'UTC') + interval '1 day') AT TIME ZONE 'UTC');
		RETURN QUERY SELECT * FROM spaza__funnel_screens(ARRAY(SELECT s FROM ussd_sessions s
			WHERE s.started_at >= v_day AND s.started_at < v_next));
		v_day := v_next;
	END LOOP;
END $$;

-- Every statement's new sessions into the roll-up, in its transaction (as the owner: below). The
-- rows are upserted in key order, so two writers adding to the same rows wait for each other, never
-- deadlock; spaza_funnel_rebuild() holds them off while it works.
CREATE FUNCTION spaza__funnel_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO funnel_daily AS f
	SELECT * FROM spaza__funnel_screens(ARRAY(SELECT s::ussd_sessions FROM new_sessions s)) ORDER BY 1, 2, 3, 4, 5, 6
	ON CONFLICT (day, screen, channel, lang, segment, menu_version) DO UPDATE SET
		entries = f.entries + EXCLUDED.entries, ended = f.ended + EXCLUDED.ended,
		timeouts = f.timeouts + EXCLUDED.timeouts, abandons = f.abandons + EXCLUDED.abandons,
		errors = f.errors + EXCLUDED.errors, backs = f.backs + EXCLUDED.backs,
		ordered = f.ordered + EXCLUDED.ordered, secs = f.secs + EXCLUDED.secs;
	RETURN NULL;
END $$;
CREATE TRIGGER ussd_sessions_funnel AFTER INSERT ON ussd_sessions REFERENCING NEW TABLE AS new_sessions
	FOR EACH STATEMENT EXECUTE FUNCTION spaza__funnel_add();

------------------------------------------------------------------------------------------
-- Reading it

-- The funnel of the sessions started since p_since, per screen and the dimensions in p_by
-- (front, lang, segment, version; one left out reads '*'): whole UTC days from the roll-up, the
-- part of a day before the first of them from the sessions, or everything from the sessions
-- (p_raw: the check). Paid is the entries of the sessions whose order is paid now.
CREATE FUNCTION spaza_funnel(p_since timestamptz, p_by text[] DEFAULT ARRAY['front', 'lang', 'segment', 'version'],
	p_raw boolean DEFAULT false)
RETURNS TABLE (screen text, front text, lang text, segment text, version text, entries bigint, ended bigint,
	timeouts bigint, abandons bigint, errors bigint, backs bigint, ordered bigint, paid bigint, s_per_hop numeric)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
	-- the first UTC midnight at or after p_since
	v_cut timestamptz := CASE WHEN p_raw THEN 'infinity'::timestamptz
		ELSE (date_trunc('day', (p_since AT TIME ZONE 'UTC') - interval '1 microsecond') + interval '1 day') AT TIME ZONE 'UTC' END;
BEGIN
	RETURN QUERY
	WITH d AS (
		SELECT * FROM funnel_daily r WHERE r.day >= (v_cut AT TIME ZONE 'UTC')::date
		UNION ALL SELECT * FROM spaza__funnel_raw(p_since, v_cut)),
	-- paid: the entries of the sessions whose order is paid now, one session of each group standing
	-- for the group (the funnel tells them by nothing else); an order is placed during its
	-- session, so after p_since (a day's margin for two clocks)
	p AS (
		SELECT f.* FROM (SELECT array_agg(s ORDER BY s.id) AS rows, array_agg(g.n ORDER BY s.id) AS n
			FROM (SELECT min(s.id) AS id, count(*) AS n FROM ussd_sessions s JOIN orders o ON o.id = s.order_id
				WHERE s.order_id IS NOT NULL AND s.started_at >= p_since AND o.created_at >= p_since - interval '1 day'
					AND o.status IN ('paid', 'shipped', 'delivered')
				GROUP BY s.screens, s.channel, s.lang, s.segment, s.menu_version) g
			JOIN ussd_sessions s ON s.id = g.id) a, spaza__funnel_screens(a.rows, a.n) f),
	a AS (
		SELECT d.screen, d.channel, d.lang, d.segment, d.menu_version, d.entries, d.ended, d.timeouts, d.abandons,
			d.errors, d.backs, d.ordered, 0::bigint AS paid, d.secs FROM d
		UNION ALL
		SELECT p.screen, p.channel, p.lang, p.segment, p.menu_version, 0, 0, 0, 0, 0, 0, 0, p.entries, 0 FROM p)
	SELECT a.screen, CASE WHEN 'front' = ANY (p_by) THEN a.channel ELSE '*' END,
		CASE WHEN 'lang' = ANY (p_by) THEN a.lang ELSE '*' END, CASE WHEN 'segment' = ANY (p_by) THEN a.segment ELSE '*' END,
		CASE WHEN 'version' = ANY (p_by) THEN a.menu_version ELSE '*' END,
		sum(a.entries)::bigint, sum(a.ended)::bigint, sum(a.timeouts)::bigint, sum(a.abandons)::bigint,
		sum(a.errors)::bigint, sum(a.backs)::bigint, sum(a.ordered)::bigint, sum(a.paid)::bigint,
		round(sum(a.secs) / nullif(sum(a.entries), 0), 1)
	FROM a GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5;
END $$;

-- The roll-up made again from every session: the same rows whenever it runs (idempotent). New
-- sessions' rows wait for it (their trigger's upsert), so none is counted twice or missed: a
-- batch that committed first is in what it reads, one that comes after adds to what it wrote.
CREATE FUNCTION spaza_funnel_rebuild(OUT n_days bigint, OUT n_rows bigint)
LANGUAGE plpgsql AS $$
BEGIN
	LOCK TABLE funnel_daily IN EXCLUSIVE MODE;
	DELETE FROM funnel_daily;
	INSERT INTO funnel_daily SELECT * FROM spaza__funnel_raw('-infinity', 'infinity');
	SELECT count(DISTINCT f.day), count(*) INTO n_days, n_rows FROM funnel_daily f;
END $$;

-- The sessions so far. Before the functions get their fixed search_path below: the migration
-- runs in whichever schema its connection names (tests/db_test.c migrates a schema of its own).
SELECT spaza_funnel_rebuild();

------------------------------------------------------------------------------------------
-- Who may: spazad reads the funnel for the back office (office_crm.c); the rebuild is staff's
-- (spazactl, as the owner); the trigger and the helpers are nobody's to call. The trigger fires
-- as whoever wrote the sessions (spazad's runtime role, which may not write the roll-up): it
-- runs as the owner, as the reading and rebuilding doors do.
ALTER FUNCTION spaza__funnel_screens SET search_path = public, pg_temp;
ALTER FUNCTION spaza__funnel_raw SET search_path = public, pg_temp;
ALTER FUNCTION spaza__funnel_add SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_funnel SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_funnel_rebuild SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE ALL ON FUNCTION spaza__funnel_screens, spaza__funnel_raw, spaza__funnel_add, spaza_funnel,
	spaza_funnel_rebuild FROM PUBLIC;
DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT EXECUTE ON FUNCTION spaza_funnel TO spaza_app;
	END IF;
END $$;
