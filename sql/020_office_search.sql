-- Spaza schema, step 20: the back office's last gaps (issue 12; doc/back-office.md): the
-- catalogue imported and edited from the Catalogue page, retailers and their till keys from the
-- Money page, and Customer 360 finding a customer by name.
--
-- Each change is a door that checks the caller's live session and role first (spaza__staff_may,
-- sql/017), as every staff door does: the runtime role may not change prices or write retailers
-- and keys (sql/006_roles.sql), so a compromised daemon still needs an owner's (or finance's)
-- live session to do any of it.

-- The catalogue import, written once for both doors: spazactl's `catalog import` (as the owner)
-- and the Catalogue page (through spaza_staff_catalog_import below) hand the file that
-- catalog_import.c's parser checked as JSON (catalog_import_json()):
--   {"categories": [name, ...], "products": [{"sku", "category" (0-based index), "position",
--    "name", "price_cents", "stock"}, ...]}
-- and this makes the catalogue exactly that, in the caller's transaction. Categories keep the id
-- they had under their name (orders and the daemon's menu refer to ids), new names get max + 1;
-- every position is first moved out of the way (-id) because (category_id, position) is unique
-- and checked row by row; products are upserted by sku, the ones not in the file are retired
-- (orders keep referring to them), a category left without any product is deleted. The daemon
-- reloads on the NOTIFY, delivered at commit and never before.
CREATE FUNCTION spaza_catalog_import(p_file jsonb, OUT n_products integer, OUT n_categories integer, OUT n_retired integer)
LANGUAGE plpgsql AS $$
DECLARE
	v_ids integer[] := '{}';
	v_max integer;
	v_id integer;
	v_name text;
	v_pos integer;
BEGIN
	-- Two imports at once would both hand out max + 1 as a new category id. Orders only take
	-- row locks, so the daemon keeps selling while this waits.
	LOCK TABLE categories IN SHARE ROW EXCLUSIVE MODE;
	SELECT coalesce(max(c.id), 0) INTO v_max FROM categories c;
	UPDATE categories SET position = -id;
	FOR v_name, v_pos IN SELECT e.value, e.ordinality FROM jsonb_array_elements_text(p_file -> 'categories')
			WITH ORDINALITY e ORDER BY e.ordinality LOOP
		SELECT c.id INTO v_id FROM categories c WHERE c.name = v_name ORDER BY c.id LIMIT 1;
		IF v_id IS NULL THEN
			v_max := v_max + 1;
			v_id := v_max;
		END IF;
		INSERT INTO categories AS c (id, name, position) VALUES (v_id, v_name, v_pos)
			ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, position = EXCLUDED.position;
		v_ids := v_ids || v_id;
	END LOOP;
	n_categories := coalesce(array_length(v_ids, 1), 0);

	UPDATE products SET position = -id;
	INSERT INTO products AS p (id, category_id, position, name, price_cents, stock, active)
	SELECT (r ->> 'sku')::integer, v_ids[(r ->> 'category')::integer + 1], (r ->> 'position')::integer, r ->> 'name',
		(r ->> 'price_cents')::bigint, (r ->> 'stock')::bigint, true
	FROM jsonb_array_elements(p_file -> 'products') r
	ON CONFLICT (id) DO UPDATE SET category_id = EXCLUDED.category_id, position = EXCLUDED.position,
		name = EXCLUDED.name, price_cents = EXCLUDED.price_cents, stock = EXCLUDED.stock, active = true;
	GET DIAGNOSTICS n_products = ROW_COUNT;
	UPDATE products SET active = false WHERE active AND position < 0;
	GET DIAGNOSTICS n_retired = ROW_COUNT;
	DELETE FROM categories c WHERE c.position < 0 AND NOT EXISTS (SELECT 1 FROM products p WHERE p.category_id = c.id);
	PERFORM pg_notify('spaza_catalog', '');
END $$;

-- The Catalogue page's import (owner): the same function, for a live owner's session. No row:
-- not such a session.
CREATE FUNCTION spaza_staff_catalog_import(p_session bytea, p_file jsonb, OUT n_products integer,
					   OUT n_categories integer, OUT n_retired integer)
RETURNS SETOF record LANGUAGE plpgsql AS $$
BEGIN
	IF NOT spaza__staff_may(p_session, ARRAY['owner']) THEN
		RETURN;
	END IF;
	RETURN QUERY SELECT i.n_products, i.n_categories, i.n_retired FROM spaza_catalog_import(p_file) i;
END $$;

-- A product's price and stock from the Catalogue page (owner). NULL keeps what it is. The price's
-- upper bound is the config's `catalog limits price-max`, which spazad checks (the database does
-- not know the config); the table's own checks keep the price above zero and the stock at zero or
-- more. Outcome: ok (with what it was, for the audit log), not_found (no such product on sale),
-- refused (not a live owner's session). The daemon reloads its catalogue on the NOTIFY.
CREATE FUNCTION spaza_staff_product_set(p_session bytea, p_sku integer, p_price_cents bigint, p_stock bigint,
					OUT outcome text, OUT old_price_cents bigint, OUT old_stock bigint,
					OUT new_price_cents bigint, OUT new_stock bigint)
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT spaza__staff_may(p_session, ARRAY['owner']) OR p_price_cents <= 0 OR p_stock < 0 THEN
		outcome := 'refused';
		RETURN;
	END IF;
	SELECT p.price_cents, p.stock INTO old_price_cents, old_stock FROM products p
	WHERE p.id = p_sku AND p.active FOR UPDATE;
	IF NOT FOUND THEN
		outcome := 'not_found';
		RETURN;
	END IF;
	UPDATE products p SET price_cents = coalesce(p_price_cents, p.price_cents), stock = coalesce(p_stock, p.stock)
	WHERE p.id = p_sku RETURNING p.price_cents, p.stock INTO new_price_cents, new_stock;
	PERFORM pg_notify('spaza_catalog', '');
	outcome := 'ok';
END $$;

-- A till key from the Money page (owner, finance), as `spazactl retailer add` (p_retailer NULL: a
-- new retailer named p_name, and its first key) and `retailer rotate-key` (p_retailer's new key;
-- the active one is revoked in the same transaction, so a retailer has one key at a time and its
-- tills need the new secret). The database gets the key id only: its signing secret is
-- HMAC('retailer-master' version p_master_version, key id), which spazad shows once and nobody
-- stores. Outcome: ok (with the retailer, its name and how many keys were revoked), exists (a new
-- retailer's name is taken), not_found (no such retailer), refused (not such a session).
CREATE FUNCTION spaza_staff_retailer_key(p_session bytea, p_retailer integer, p_name text, p_key_id text,
					 p_master_version integer, OUT outcome text, OUT retailer_id integer,
					 OUT retailer_name text, OUT revoked integer)
LANGUAGE plpgsql AS $$
BEGIN
	revoked := 0;
	IF NOT spaza__staff_may(p_session, ARRAY['owner', 'finance']) THEN
		outcome := 'refused';
	ELSIF p_retailer IS NULL THEN
		INSERT INTO retailers (name) VALUES (p_name) ON CONFLICT (name) DO NOTHING
		RETURNING id, name INTO retailer_id, retailer_name;
		outcome := CASE WHEN retailer_id IS NULL THEN 'exists' END;
	ELSE
		SELECT r.id, r.name INTO retailer_id, retailer_name FROM retailers r WHERE r.id = p_retailer FOR UPDATE;
		outcome := CASE WHEN retailer_id IS NULL THEN 'not_found' END;
		UPDATE retailer_keys k SET revoked_at = now() WHERE k.retailer_id = p_retailer AND k.revoked_at IS NULL
			AND outcome IS NULL;
		GET DIAGNOSTICS revoked = ROW_COUNT;
	END IF;
	IF outcome IS NULL THEN
		INSERT INTO retailer_keys (key_id, retailer_id, master_version) VALUES (p_key_id, retailer_id, p_master_version);
		outcome := 'ok';
	END IF;
END $$;

ALTER FUNCTION spaza_catalog_import SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_staff_catalog_import SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_staff_product_set SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_staff_retailer_key SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE ALL ON FUNCTION spaza_catalog_import, spaza_staff_catalog_import, spaza_staff_product_set,
	spaza_staff_retailer_key FROM PUBLIC;
-- spaza_catalog_import itself stays the owner's: the runtime role reaches it only through the
-- session-checked door.
DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT EXECUTE ON FUNCTION spaza_staff_catalog_import, spaza_staff_product_set, spaza_staff_retailer_key
			TO spaza_app;
	END IF;
END $$;

-- Customer 360 finds a customer by name: a case-insensitive substring (OFFICE_CUSTOMER_FIND), fast
-- on a million customers. A query of three characters or more is a substring, answered by a
-- trigram index; a shorter one is a prefix, answered by the btree. pg_trgm is a trusted
-- extension (PostgreSQL 13 and later: the database's owner, who runs these migrations, may
-- create it). Where it cannot be created the migration still goes through, with the btree alone:
-- prefixes stay fast, substrings then read the table (doc/back-office.md says so).
CREATE INDEX customers_name_lower ON customers (lower(name) text_pattern_ops) WHERE name IS NOT NULL;
DO $$ BEGIN
	BEGIN
		CREATE EXTENSION IF NOT EXISTS pg_trgm;
	EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
		RAISE NOTICE 'pg_trgm is not available (%): finding customers by a part of their name reads the table', SQLERRM;
		RETURN;
	END;
	EXECUTE 'CREATE INDEX customers_name_trgm ON customers USING gin (lower(name) gin_trgm_ops) WHERE name IS NOT NULL';
END $$;

-- The search itself: p_pattern is a LIKE pattern for lower(name) (spazad escapes what staff typed).
-- Two things keep it fast at size (1,000,000 customers: doc/benchmark.md "The back office"):
-- the query is planned for each pattern (EXECUTE), because a prepared statement's generic plan,
-- which PostgreSQL switches to after a few runs, cannot see that 'th%' is a prefix and walks the
-- trigram index instead of the btree (90 ms instead of 0.2); and the first p_limit matches are
-- taken before they are sorted by name, so a common surname (80,000 matches) stops at the
-- p_limit-th instead of sorting them all (250 ms): the page lists "the first 20, type more".
CREATE FUNCTION spaza_customer_find(p_pattern text, p_limit integer)
RETURNS TABLE (msisdn text, name text, since text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN QUERY EXECUTE 'SELECT m.msisdn, m.name, to_char(m.created_at, ''YYYY-MM-DD'') FROM'
		' (SELECT c.id, c.msisdn, c.name, c.created_at FROM customers c'
		'  WHERE c.name IS NOT NULL AND lower(c.name) LIKE lower($1) LIMIT $2) m'
		' ORDER BY lower(m.name), m.id' USING p_pattern, p_limit;
END $$;
ALTER FUNCTION spaza_customer_find SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE ALL ON FUNCTION spaza_customer_find FROM PUBLIC;
DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT EXECUTE ON FUNCTION spaza_customer_find TO spaza_app;
	END IF;
END $$;
