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

-- The USSD name screen's answer: a name, or NULL when the customer skipped it. Either way the
-- screen is never shown again (name_asked_at).
CREATE FUNCTION spaza_customer_name_answer(p_customer bigint, p_name text) RETURNS void
LANGUAGE sql AS $$
	UPDATE customers SET name = coalesce(nullif(btrim(p_name), ''), name), name_asked_at = now()
	WHERE id = p_customer AND name_asked_at IS NULL;
$$;

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

-- spaza_customer_timeline (sql/011_care.sql) with the timeline_profile branch added.
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
		(SELECT v.at, v.kind, v.ref, v.summary FROM timeline_order_placed v
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
		(SELECT v.at, v.kind, v.ref, v.summary FROM timeline_profile v
		 WHERE v.customer_id = p_customer AND v.at < coalesce(p_before, 'infinity') ORDER BY v.at DESC LIMIT p_lim)
	) t ORDER BY t.at DESC, length(t.ref) DESC, t.ref DESC, t.kind LIMIT p_lim;
$$;ALTER FUNCTION spaza_customer_timeline SECURITY DEFINER SET search_path = public, pg_temp;

ALTER FUNCTION spaza__profile_source SET search_path = public, pg_temp;
ALTER FUNCTION spaza__profile_customer_log SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza__profile_field_log SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza__profile_forget SET search_path = public, pg_temp;
ALTER FUNCTION spaza_customer_set SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_customer_name_answer SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_customer_field_key_add SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_customer_profile SECURITY DEFINER SET search_path = public, pg_temp;

DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT EXECUTE ON FUNCTION spaza_customer_set, spaza_customer_name_answer, spaza_customer_field_key_add,
			spaza_customer_profile, spaza_customer_timeline TO spaza_app;
		GRANT SELECT ON customer_field_keys TO spaza_app;
		-- SMS STOP/START update opt_out as the runtime role: the trigger writes the history as its owner
	END IF;
END $$;
