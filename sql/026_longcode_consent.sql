-- Spaza schema, step 26: one dial string, three meanings.
--
-- *120*777*<digits># meant "pay order <digits>" only. A campaign's dial code (sql/015,
-- campaigns.dial_code) and a customer's referral code (sql/018, six digits) are dialled the same
-- way, so spazad resolves the digits (doc/crm.md, "One dial string, three meanings"):
--   1. the dial code of a campaign that has started (running, paused or done: its SMS went out
--      and customers dial it afterwards) opens the home screen. spazad keeps these codes in
--      memory: the trigger below tells it when they change, so no dial asks the database;
--   2. the caller's own order: pay it (as before);
--   3. a referral code (not the caller's own order): the caller enters it;
--   4. anything else: pay, which says "order not found" (as before).
-- 2 and 3 need the database; spaza_longcode_resolve() answers them in the statement that reads
-- (or creates) the caller's customer record: a caller spazad has not cached pays that statement
-- on any dial, so the question costs nothing more; a cached one pays this one read.
--
-- Marketing consent on USSD needs nothing new here: spazad records the customer's choice as SMS
-- STOP/START do (customers.opt_out, opt_out_at, opt_out_source 'ussd'), sql/018's trigger puts
-- it on the timeline with that source, and campaigns read opt_out as each SMS's turn comes.

------------------------------------------------------------------------------------------
-- The digits of a long code

-- The caller's record, as CUSTOMER_UPSERT returns it (id, language, name, asked for a name), and
-- what the digits are to this caller: 'order' (one of the caller's orders, whatever its status),
-- 'referral' (somebody's referral code, the caller's own included: entering it says so), 'none'.
-- The caller's order comes first: paying shows a screen and changes nothing, while entering a
-- code cannot be undone, and the customer who owns that order is the one who knows the number.
-- Only the caller's orders are looked at: whether another customer has an order with these
-- digits never changes the answer, so a dial reveals nothing of other people's orders.
-- A known customer is only read (the dial costs no write); a new one is created.
CREATE FUNCTION spaza_longcode_resolve(p_msisdn text, p_lang text, p_digits text)
	RETURNS TABLE (id bigint, lang text, name text, name_asked boolean, meaning text)
LANGUAGE plpgsql AS $$
DECLARE
	v customers%ROWTYPE;
BEGIN
	SELECT * INTO v FROM customers c WHERE c.msisdn = p_msisdn;
	IF NOT FOUND THEN
		INSERT INTO customers AS c (msisdn, lang) VALUES (p_msisdn, p_lang)
			ON CONFLICT (msisdn) DO UPDATE SET msisdn = EXCLUDED.msisdn RETURNING c.* INTO v;
	END IF;
	id := v.id;
	lang := v.lang;
	name := coalesce(v.name, '');
	name_asked := v.name_asked_at IS NOT NULL OR v.name IS NOT NULL;
	meaning := CASE
		WHEN p_digits ~ '^[0-9]{1,18}$' AND EXISTS (SELECT 1 FROM orders o
			WHERE o.id = p_digits::bigint AND o.customer_id = v.id) THEN 'order'
		WHEN EXISTS (SELECT 1 FROM referral_codes r WHERE r.code = p_digits) THEN 'referral'
		ELSE 'none' END;
	RETURN NEXT;
END $$;

-- spazad keeps the dial codes of started campaigns in memory (src/domain/longcode.c) and reads
-- them again on this notification, whoever started the campaign or changed its code (spazactl,
-- the back office).
CREATE FUNCTION spaza__campaign_codes_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('spaza_campaign_codes', '');
	RETURN NULL;
END $$;
CREATE TRIGGER campaigns_codes_changed AFTER UPDATE OF started_at, dial_code ON campaigns FOR EACH ROW
	WHEN (OLD.started_at IS DISTINCT FROM NEW.started_at OR OLD.dial_code IS DISTINCT FROM NEW.dial_code)
	EXECUTE FUNCTION spaza__campaign_codes_changed();
CREATE TRIGGER campaigns_codes_deleted AFTER DELETE ON campaigns FOR EACH ROW
	WHEN (OLD.started_at IS NOT NULL AND OLD.dial_code IS NOT NULL)
	EXECUTE FUNCTION spaza__campaign_codes_changed();

ALTER FUNCTION spaza_longcode_resolve SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza__campaign_codes_changed SET search_path = public, pg_temp;
REVOKE ALL ON FUNCTION spaza_longcode_resolve, spaza__campaign_codes_changed FROM PUBLIC;
DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT EXECUTE ON FUNCTION spaza_longcode_resolve TO spaza_app;
	END IF;
END $$;
