#!/usr/bin/env bash
# Least privilege in the database (sql/006_roles.sql, doc/security.md): connected as the runtime
# role spazad uses, every way around the ledger is refused: editing, deleting or truncating
# postings, switching their triggers off, the ledger's internal functions, the staff-only
# functions, and any change to the schema. The daemon itself runs as that role (the rest of the
# suite proves it works end to end), and refuses to start while migrations are pending.
source "$(dirname "$0")/lib.sh"
T=db_roles

# as_app SQL: run as the runtime role; prints the result, or the error
as_app() { psql -X -U "$SPAZA_APP_ROLE" -d "${2:-spaza}" -v ON_ERROR_STOP=1 -qtAc "$1" 2>&1; }
# refused WHAT SQL ERE: the statement fails as the runtime role, with an error matching ERE
refused() {
	local out rc=0
	out=$(as_app "$2") || rc=$?
	if [ "$rc" != 0 ] && [[ "$out" =~ $3 ]]; then
		pass "$T: refused to the runtime role: $1"
	else
		fail "$T: refused to the runtime role: $1: expected an error matching /$3/, got <$(oneline "$out")> (exit $rc)"
	fi
}

check_eq "$T: the runtime role is neither superuser nor may create roles or databases" "false|false|false" \
	"$(psql_val "SELECT rolsuper || '|' || rolcreaterole || '|' || rolcreatedb FROM pg_roles WHERE rolname = '$SPAZA_APP_ROLE'")"
check_eq "$T: the owner is neither superuser nor may create roles" "false|false" \
	"$(psql_val "SELECT rolsuper || '|' || rolcreaterole FROM pg_roles WHERE rolname = '$SPAZA_OWNER_ROLE'")"
check_eq "$T: the owner owns the ledger's tables and functions" "$SPAZA_OWNER_ROLE|$SPAZA_OWNER_ROLE" \
	"$(psql_val "SELECT (SELECT relowner::regrole::text FROM pg_class WHERE oid = 'ledger_entries'::regclass) || '|' ||
		(SELECT string_agg(DISTINCT proowner::regrole::text, ',') FROM pg_proc
		 WHERE pronamespace = 'public'::regnamespace AND proname LIKE 'spaza%')")"

# A posting to aim at: the suite's ledger has some by now; make sure of one.
psql_val "SELECT spaza_voucher_issue(ARRAY[encode(sha256(('db_roles' || random())::bytea), 'hex')], ARRAY['4242'], 500, NULL)" >/dev/null
E=$(psql_val "SELECT max(id) FROM ledger_entries")
X=$(psql_val "SELECT max(id) FROM ledger_txns")

refused "UPDATE of a posting" "UPDATE ledger_entries SET amount_cents = amount_cents * 2 WHERE id = $E" \
	'permission denied for table ledger_entries'
refused "DELETE of a posting" "DELETE FROM ledger_entries WHERE id = $E" 'permission denied for table ledger_entries'
refused "DELETE of a ledger transaction" "DELETE FROM ledger_txns WHERE id = $X" 'permission denied for table ledger_txns'
refused "TRUNCATE of the postings (no row triggers fire on it)" "TRUNCATE ledger_entries CASCADE" \
	'permission denied for table ledger_entries'
refused "INSERT of a posting outside the ledger's functions" \
	"INSERT INTO ledger_entries (txn_id, account_id, amount_cents) VALUES ($X, 1, 100)" 'permission denied for table ledger_entries'
refused "ALTER TABLE ... DISABLE TRIGGER on the postings" \
	"ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only" 'must be owner of table ledger_entries'
refused "ALTER TABLE ... DISABLE TRIGGER ALL on the transactions" \
	"ALTER TABLE ledger_txns DISABLE TRIGGER ALL" 'must be owner of table ledger_txns'
refused "session_replication_role = replica (which skips triggers)" \
	"SET session_replication_role = replica" 'permission denied to set parameter'
refused "calling spaza__post (an unbalanced posting, one leg at a time)" \
	"SELECT spaza__post('db_roles', 'refund', NULL, sha256('x'), NULL, ARRAY[1::bigint], ARRAY[100::bigint])" \
	'permission denied for function spaza__post'
refused "calling spaza__account" "SELECT spaza__account('sales', NULL)" 'permission denied for function spaza__account'
refused "issuing vouchers (staff, as the owner)" \
	"SELECT spaza_voucher_issue(ARRAY[repeat('ab', 32)], ARRAY['1234'], 100000, NULL)" \
	'permission denied for function spaza_voucher_issue'
refused "setting a credit limit (staff, as the owner)" "SELECT spaza_credit_set_limit(1, 100000000)" \
	'permission denied for function spaza_credit_set_limit'
refused "changing a price" "UPDATE products SET price_cents = 1" 'permission denied for table products'
refused "changing an order's status by hand" "UPDATE orders SET status = 'paid' WHERE false" 'permission denied for table orders'
refused "reading vouchers' PIN HMACs" "SELECT pin_hmac FROM vouchers LIMIT 1" 'permission denied for table vouchers'
refused "DDL: CREATE TABLE" "CREATE TABLE public.db_roles_t (i int)" 'permission denied for schema public'
refused "DDL: CREATE FUNCTION" \
	"CREATE FUNCTION public.db_roles_f() RETURNS int LANGUAGE sql AS 'SELECT 1'" 'permission denied for schema public'
refused "DDL: DROP TABLE" "DROP TABLE ledger_entries" 'must be owner of table ledger_entries'
refused "DDL: ALTER TABLE ... DROP CONSTRAINT" \
	"ALTER TABLE credit_lines DROP CONSTRAINT credit_used_within_limit" 'must be owner of table credit_lines'
refused "DDL: replacing a ledger function" \
	"CREATE OR REPLACE FUNCTION spaza_ledger_check() RETURNS TABLE (invariant text, detail text) LANGUAGE sql AS 'SELECT NULL::text, NULL::text WHERE false'" \
	'permission denied for schema public|must be owner of function spaza_ledger_check'

# What the role may do, it can.
check_eq "$T: the runtime role runs the ledger's public functions (ledger check)" "" "$(as_app "SELECT * FROM spaza_ledger_check()")"
check_match "$T: the runtime role reads what a hop needs (customers, catalogue)" '^[0-9]+\|[0-9]+$' \
	"$(as_app "SELECT (SELECT count(*) FROM customers) || '|' || (SELECT count(*) FROM products)")"

# Customer care (sql/011_care.sql): the runtime role reaches tickets, ratings, notes, unlocks
# and the timeline only through their spaza_* functions, never the tables or views themselves.
check_match "$T: the runtime role reads a customer's timeline through spaza_customer_timeline" '^[0-9]+$' \
	"$(as_app "SELECT count(*) FROM spaza_customer_timeline((SELECT min(id) FROM customers), NULL, 10)")"
check_eq "$T: the runtime role opens a care ticket through spaza_care_open (an unknown order: not_found)" "not_found" \
	"$(as_app "SELECT outcome FROM spaza_care_open((SELECT min(id) FROM customers), -1, 'other', 'sms', 'x', 'sms', NULL)")"
refused "reading care tickets directly" "SELECT * FROM care_tickets LIMIT 1" 'permission denied for table care_tickets'
refused "writing a care message directly" \
	"INSERT INTO care_messages (ticket_id, customer_id, direction, step, author) VALUES (1, 1, 'out', 'reply', 'x')" \
	'permission denied for table care_messages'
refused "reading the timeline views directly" "SELECT * FROM timeline_sms LIMIT 1" 'permission denied for (view|table) timeline_sms'
refused "changing a rating directly" "UPDATE ratings SET stars = 5" 'permission denied for table ratings'
refused "deleting the unlock record" "DELETE FROM pin_unlocks" 'permission denied for table pin_unlocks'

# The CRM pages (sql/023_crm_pages.sql): spazad runs spazactl's segment, campaign and funnel
# statements, so the runtime role reads those tables and counts a rule's members; it may change a
# segment's rule and a campaign's state, nothing else of them, and delete nothing.
check_match "$T: the runtime role counts a rule's members and reads the scores and campaigns" '^[0-9]+\|[0-9]+\|[0-9]+$' \
	"$(as_app "SELECT (SELECT count(*) FROM spaza_segment_members(NULL, NULL, NULL, 'zu', NULL, NULL, true, NULL)) || '|' ||
		(SELECT count(*) FROM customer_rfm) || '|' || (SELECT count(*) FROM campaigns)")"
refused "changing a campaign's text" "UPDATE campaigns SET text_en = 'x'" 'permission denied for table campaigns'
refused "deleting a campaign" "DELETE FROM campaigns" 'permission denied for table campaigns'
refused "deleting a segment" "DELETE FROM crm_segments" 'permission denied for table crm_segments'
refused "changing the RFM scores directly" "UPDATE customer_rfm SET r = 5" 'permission denied for table customer_rfm'

# A payment by the runtime role commits in one transaction with other writes, as spazad batches
# them: the ledger's balance check is a deferred trigger, firing at COMMIT, outside the function
# that wrote the postings.
C=$(psql_val "INSERT INTO customers (msisdn) VALUES ('+2782970' || lpad((random() * 99999)::int::text, 5, '0'))
	ON CONFLICT (msisdn) DO UPDATE SET lang = customers.lang RETURNING id")
P=$(psql_val "SELECT id || ' ' || price_cents FROM products WHERE active ORDER BY id LIMIT 1")
O=$(psql_val "INSERT INTO orders (customer_id, product_id, qty, unit_cents, total_cents, idem_key)
	VALUES ($C, ${P% *}, 1, ${P#* }, ${P#* }, '$(t_sid)') RETURNING id")
psql_val "SELECT spaza_credit_set_limit($C, 100000000)" >/dev/null
check_eq "$T: the runtime role pays (credit hold and post) and commits with other writes" $'ok\nposted' \
	"$(as_app "SELECT outcome FROM spaza_credit_hold('$T:hold:$O', $C, $O); SELECT outcome FROM spaza_credit_post($O);
		UPDATE customers SET lang = lang WHERE id = $C")"
check_eq "$T: ... and the posting is in the ledger" "1" \
	"$(psql_val "SELECT count(*) FROM ledger_txns WHERE order_id = $O AND reason = 'credit_payment'")"

# Every function of the ledger: public ones run as their owner with a fixed search_path, internal
# ones are the owner's alone (a function a later migration adds without this fails here).
check_eq "$T: every public spaza_* function is SECURITY DEFINER with search_path=public, pg_temp" "" \
	"$(psql_val "SELECT string_agg(proname, ' ') FROM pg_proc WHERE pronamespace = 'public'::regnamespace
		AND proname LIKE 'spaza\_%' AND proname NOT LIKE 'spaza\_\_%'
		AND NOT (prosecdef AND 'search_path=public, pg_temp' = ANY (coalesce(proconfig, '{}'))))")"
check_eq "$T: no spaza__* function may be run by the runtime role" "" \
	"$(psql_val "SELECT string_agg(proname, ' ') FROM pg_proc WHERE pronamespace = 'public'::regnamespace
		AND proname LIKE 'spaza\_\_%' AND has_function_privilege('$SPAZA_APP_ROLE', oid, 'EXECUTE')")"
check_eq "$T: every function has a fixed search_path" "" \
	"$(psql_val "SELECT string_agg(proname, ' ') FROM pg_proc WHERE pronamespace = 'public'::regnamespace
		AND proowner = '$SPAZA_OWNER_ROLE'::regrole AND NOT coalesce(proconfig, '{}') @> ARRAY['search_path=public, pg_temp'])")"

# The shared daemon is connected as the runtime role, and answers.
check_true "$T: the running spazad is connected as $SPAZA_APP_ROLE" "no backend of $SPAZA_APP_ROLE in pg_stat_activity" \
	[ "$(psql_val "SELECT count(*) FROM pg_stat_activity WHERE usename = '$SPAZA_APP_ROLE' AND datname = 'spaza'")" -ge 1 ]
check_match "$T: spazad as the runtime role answers a dial" '^CON ' "$(ussd "$(t_sid)" "$(t_phone 71)" "")"

# spazad never migrates: on a database whose schema is not current it refuses to start.
DB=spaza_db_roles
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
at_exit "psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS $DB WITH (FORCE)' >/dev/null 2>&1"
SPAZA_CONNINFO="host=${PGHOST:-127.0.0.1} port=${PGPORT:-5432} user=$SPAZA_APP_ROLE dbname=$DB"
own_cfg "$T_TMP/fresh.cfg" "$(free_port)" "$(free_port)"
start_refused() { # start_refused WHAT ERE: spazad exits 1 at once, its log matching ERE
	local out rc=0
	out=$(timeout 60 "$SPAZAD" -c "$T_TMP/fresh.cfg" 2>&1) || rc=$?
	if [ "$rc" = 1 ] && [[ "$out" =~ $2 ]]; then
		pass "$T: spazad refuses to start: $1"
	else
		fail "$T: spazad refuses to start: $1: expected exit 1 and /$2/, got exit $rc, <$(oneline "$out")>"
	fi
}
start_refused "on a database with no schema" 'no Spaza schema: run `spazactl migrate` first'
"$SPAZACTL" -c "$T_TMP/fresh.cfg" migrate >/dev/null
psql -X -q -d "$DB" -c "DELETE FROM schema_migrations WHERE version = 6" >/dev/null
start_refused "with a migration pending" '1 schema migration pending, the first 006_roles.sql: run `spazactl migrate`'
latest=$(basename "$(ls "$SPAZA_TOP"/sql/[0-9]*.sql | tail -1)")
latest=$((10#${latest%%_*}))
check_eq "$T: spazactl migrate (as the owner) applies it" "schema version $latest" "$("$SPAZACTL" -c "$T_TMP/fresh.cfg" migrate 2>&1 | tail -1)"
sed -i '/^ database-owner /d' "$T_TMP/fresh.cfg"
check_has "$T: spazactl as the runtime role may not issue vouchers" "permission denied for function spaza_voucher_issue" \
	"$("$SPAZACTL" -c "$T_TMP/fresh.cfg" vouchers issue --count 1 --value 10 --out "$T_TMP/pins" 2>&1)"
