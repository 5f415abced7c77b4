-- The back office's CRM pages (doc/back-office.md: Segments, Campaigns, Funnel; src/fronts/office_crm.c)
-- run spazactl's own statements (src/store/db_stmts.def), now from spazad too, whose runtime role
-- (sql/006_roles.sql) could only dispatch campaigns (sql/015_crm.sql). It gets what those
-- statements touch and no more: reading the scores, the segments and the campaigns with their
-- recipients (the reports), counting a rule's members, defining a segment (its rule only),
-- creating a campaign and moving its state. spazad checks the staff session and role before any
-- of it (office.c, office_crm.c: the owner changes, care reads) and audits each change.
-- No table changes.
DO $$ BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		GRANT SELECT ON customer_rfm, crm_segments, campaigns, campaign_recipients TO spaza_app;
		GRANT INSERT ON crm_segments TO spaza_app;
		GRANT UPDATE (rule) ON crm_segments TO spaza_app;
		GRANT INSERT ON campaigns TO spaza_app;
		GRANT UPDATE (state, started_at) ON campaigns TO spaza_app;
		GRANT INSERT ON campaign_recipients TO spaza_app;
		GRANT USAGE ON SEQUENCE campaigns_id_seq TO spaza_app;
		GRANT EXECUTE ON FUNCTION spaza_segment_members TO spaza_app;
	END IF;
END $$;
