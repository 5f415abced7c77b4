-- Spaza schema, step 6: least privilege (doc/security.md, "Database roles").
--
-- Two roles. The owner runs these migrations (`spazactl migrate`) and owns every object; staff
-- work through spazactl as the owner too. The runtime role spaza_app is what spazad connects
-- as: it reads and writes the tables a hop needs, and moves money only through the ledger's
-- public spaza_* functions, which run with their owner's rights. A compromised daemon can
-- therefore not edit or delete postings, switch off the append-only triggers (only a table's
-- owner may), call the ledger's internals (spaza__*) to post unbalanced entries one by one,
-- change prices, issue vouchers or grant credit, or change the schema.
--
-- Roles belong to the cluster, not the database, so this file does not create spaza_app: the
-- cluster's administrator does, once (scripts/lib.sh does it for the embedded clusters).
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spaza_app') THEN
		RAISE EXCEPTION 'role spaza_app does not exist: create it first, as a superuser: CREATE ROLE spaza_app LOGIN (doc/security.md)';
	END IF;
END $$;

-- Nothing is anyone's by default: PostgreSQL grants EXECUTE on every new function to PUBLIC,
-- and older clusters let PUBLIC create objects in the public schema. Functions later migrations
-- create (as this same owner) start with no EXECUTE for PUBLIC either; each grants its own.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- The ledger's public functions run as their owner, so the runtime role needs no rights on the
-- money tables. A SECURITY DEFINER function must not resolve names through the caller's
-- search_path, where a caller's own (temporary) objects could stand in for ours: each gets a
-- fixed one, pg_temp last.
ALTER FUNCTION spaza_luhn_check_digit SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_easypay_ref SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_voucher_issue SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_voucher_redeem SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_credit_set_limit SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_credit_hold SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_credit_post SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_credit_balance SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_credit_repay SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_slip_create SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_slip_lookup SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_retailer_by_key SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_slip_pay SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_slip_reverse SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_order_cancel SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_holds_expire SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza_ledger_check SECURITY DEFINER SET search_path = public, pg_temp;

-- The balance check is a deferred trigger: it fires at COMMIT, after the function that wrote the
-- postings has returned, as whoever commits (spaza_app), who may not read the postings. It runs
-- as the owner wherever it fires; so does the append-only guard, for the same reason.
ALTER FUNCTION spaza__ledger_append_only SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spaza__ledger_balanced SECURITY DEFINER SET search_path = public, pg_temp;

-- The internals and the other triggers run inside the functions above, or as whoever wrote the
-- row (the SMS triggers): the same fixed search_path, for the same reason, and no EXECUTE for
-- anyone but the owner.
ALTER FUNCTION spaza__lock_key SET search_path = public, pg_temp;
ALTER FUNCTION spaza__hash SET search_path = public, pg_temp;
ALTER FUNCTION spaza__account SET search_path = public, pg_temp;
ALTER FUNCTION spaza__post SET search_path = public, pg_temp;
ALTER FUNCTION spaza__hold_release SET search_path = public, pg_temp;
ALTER FUNCTION spaza__order_settle SET search_path = public, pg_temp;
ALTER FUNCTION spaza__voucher_locked SET search_path = public, pg_temp;
ALTER FUNCTION spaza__till_response SET search_path = public, pg_temp;
ALTER FUNCTION sms_outbox_notify SET search_path = public, pg_temp;
ALTER FUNCTION sms_order_notify SET search_path = public, pg_temp;

-- What spazad does (src/store/db_stmts.def), and nothing more.
GRANT USAGE ON SCHEMA public TO spaza_app;
-- Customers' payments, credit and slips, the till API, the expiry sweep. Issuing vouchers and
-- setting credit limits make money or credit out of nothing: staff do that, as the owner.
GRANT EXECUTE ON FUNCTION spaza_voucher_redeem, spaza_credit_hold, spaza_credit_post, spaza_credit_balance,
	spaza_credit_repay, spaza_slip_create, spaza_slip_lookup, spaza_retailer_by_key, spaza_slip_pay,
	spaza_slip_reverse, spaza_order_cancel, spaza_holds_expire, spaza_ledger_check,
	spaza_luhn_check_digit, spaza_easypay_ref TO spaza_app;
-- First contact, the language, STOP/START; never a customer's removal.
GRANT SELECT, INSERT ON customers TO spaza_app;
GRANT UPDATE (msisdn, lang, opt_out, opt_out_at, opt_out_source) ON customers TO spaza_app;
-- The catalogue is read; an order takes its units from stock, and may change nothing else.
GRANT SELECT ON categories, products TO spaza_app;
GRANT UPDATE (stock) ON products TO spaza_app;
-- Orders are created here; their status changes through the ledger's functions or spazactl.
GRANT SELECT, INSERT ON orders TO spaza_app;
-- The timeline and the SMS outbox.
GRANT SELECT, INSERT ON ussd_sessions TO spaza_app;
GRANT SELECT, INSERT, UPDATE ON sms_messages TO spaza_app;
-- The till API shows a slip with the payment in force.
GRANT SELECT ON slips, till_payments TO spaza_app;
-- spazad refuses to start on a schema other than the one it was built for.
GRANT SELECT ON schema_migrations TO spaza_app;
GRANT USAGE ON SEQUENCE customers_id_seq, order_no, ussd_sessions_id_seq, sms_messages_id_seq TO spaza_app;
