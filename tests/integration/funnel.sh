# The journey funnel (spazactl funnel, doc/crm.md) on scripted dialogues through /ussd/at: per
# screen, language, front end, segment and menu version the entries, the exits by END, timeout
# and abandon, the backs, and the conversion to an order and to a paid order, exactly as the
# dialogues went; the CSV export carries the same figures. The menu's version (its file's hash,
# or its own version:) is on every session, a reload gives new sessions the new one and leaves
# a live session its own. The daily roll-up (sql/027) gives what the sessions themselves give
# (--raw), for any since (inside a day, at midnight, sessions across midnight, a duplicate row),
# before and after a restart of spazad, and a rebuild makes it again to the byte, twice over.
# An own spazad on the suite's database with a 2 s idle timeout and a copy of the menus.
source "$(dirname "$0")/lib.sh"
T=funnel
ctl() { "$SPAZACTL" -c "$SPAZA_CFG" "$@"; }
MENUS=$T_TMP/menus
cp -r "$SPAZA_TOP/menus" "$MENUS"
[ "$(id -u)" != 0 ] || ! id spaza >/dev/null 2>&1 || chown -R spaza "$MENUS"
own_up funnel " session idle-timeout 2" " menus $MENUS" || { fail "$T: own spazad starts (see $OWN_LOG)"; exit 0; }
hop() { ussd "$1" "$2" "$3" "*120*777#" "$OWN_URL" >/dev/null; }
vty_do() { vty_open "$OWN_VTY" && vty enable >/dev/null && vty "$1"; vty_close; }
sessions_since() { psql_val "SELECT count(*) FROM ussd_sessions WHERE started_at >= '$1'"; }
# the roll-up's figures against the sessions' own for a since (the whole CSV, every dimension)
# The two reads are two statements: a session that ends between them (one the suite's spazad
# left open in an earlier test, written when its idle timeout ends it, is inside a since of
# yesterday) is in one and not the other. So they are read again, up to 5 times a second apart,
# until no session landed between them: a roll-up that is wrong differs every time.
same() { # same WHAT SINCE
	local raw rolled i
	for i in 1 2 3 4 5; do
		raw=$(ctl funnel --since "$2" --raw --csv 2>&1)
		rolled=$(ctl funnel --since "$2" --csv 2>&1)
		[ "$raw" != "$rolled" ] || break
		sleep 1
	done
	check_eq "$T: $1: the roll-up gives what the sessions give (since $2)" "$raw" "$rolled"
}
V1=$(sha256sum "$MENUS/shop.yaml" | cut -c1-8)

SINCE=$(psql_val "SELECT to_char(now(), 'YYYY-MM-DD\"T\"HH24:MI:SS')")
next_second
X1=$(t_phone 44) X2=$(t_phone 44) X3=$(t_phone 44) X4=$(t_phone 44) X5=$(t_phone 44)
psql_val "INSERT INTO customers (msisdn, lang) VALUES ('$(e164 "$X2")', 'zu') ON CONFLICT (msisdn) DO UPDATE SET lang = 'zu'" >/dev/null

# S1: browse Drinks, Coke 2L, 2, confirm: an order (7 screens, END)
s=$(t_sid); for t in "" 1 1*2 1*2*1 1*2*1*1 1*2*1*1*2; do hop "$s" "$X1" "$t"; done
r=$(ussd "$s" "$X1" "1*2*1*1*2*1" "*120*777#" "$OWN_URL")
ORDER=$(sed -n 's/^END Order #\([0-9]*\) placed.*/\1/p' <<<"$r")
check_match "$T: S1 places an order" '^[0-9]+$' "$ORDER"
# S2 (isiZulu): help, call us: END
s=$(t_sid); hop "$s" "$X2" ""; hop "$s" "$X2" "5"; hop "$s" "$X2" "5*3"
# S3: categories, back to main, then silence: timeout on main
s=$(t_sid); hop "$s" "$X3" ""; hop "$s" "$X3" "1"; hop "$s" "$X3" "1*0"
# S4: categories, Groceries, then silence: timeout on products
s=$(t_sid); hop "$s" "$X4" ""; hop "$s" "$X4" "1"; hop "$s" "$X4" "1*1"
# S5: categories, then the customer dials again (abandoned on categories) and asks for help
s=$(t_sid); hop "$s" "$X5" ""; hop "$s" "$X5" "1"
s=$(t_sid); hop "$s" "$X5" ""; hop "$s" "$X5" "5"; hop "$s" "$X5" "5*3"

# every session on the timeline (timeouts after 2 s, written in the next batch)
wait_for 30 sh -c "[ \"\$(psql -X -qtAc \"SELECT count(*) FROM ussd_sessions WHERE started_at >= '$SINCE'\")\" -ge 6 ]"
check_eq "$T: six sessions on the timeline" 6 "$(sessions_since "$SINCE")"
check_eq "$T: each carries the version of the menu it walked (the file's SHA-256, 8 hex digits)" "6 $V1" \
	"$(psql_val "SELECT count(*) || ' ' || string_agg(DISTINCT menu_version, ',') FROM ussd_sessions WHERE started_at >= '$SINCE'")"

# screen front lang segment version entries end timeout abandon error back ordered paid
rows() { ctl funnel --since "$SINCE" --csv "$@" 2>&1 | cut -d, -f1-13; }
want="screen,front,lang,segment,version,entries,end,timeout,abandon,error,back,ordered,paid
categories,at,en,none,$V1,4,0,0,1,0,1,1,0
confirm,at,en,none,$V1,1,0,0,0,0,0,1,0
detail,at,en,none,$V1,1,0,0,0,0,0,1,0
help,at,en,none,$V1,1,0,0,0,0,0,0,0
help,at,zu,none,$V1,1,0,0,0,0,0,0,0
help_call,at,en,none,$V1,1,1,0,0,0,0,0,0
help_call,at,zu,none,$V1,1,1,0,0,0,0,0,0
main,at,en,none,$V1,6,0,1,0,0,0,1,0
main,at,zu,none,$V1,1,0,0,0,0,0,0,0
placed,at,en,none,$V1,1,1,0,0,0,0,1,0
products,at,en,none,$V1,2,0,1,0,0,0,1,0
quantity,at,en,none,$V1,1,0,0,0,0,0,1,0"
check_eq "$T: the funnel per screen: entries, exits by END/timeout/abandon, backs, orders" "$want" "$(rows)"
same "the scripted dialogues" "$SINCE"

# S1's order paid (on credit, through the ledger's functions): the paid column follows at once
# (orders are asked at read time); the segment is the customer's when the session was written
CUST=$(psql_val "SELECT id FROM customers WHERE msisdn = '$(e164 "$X1")'")
psql_val "SELECT outcome FROM spaza_credit_set_limit($CUST, 100000)" >/dev/null
psql_val "SELECT outcome FROM spaza_credit_hold('it-funnel-$$', $CUST, $ORDER)" >/dev/null
psql_val "SELECT outcome FROM spaza_credit_post($ORDER)" >/dev/null
out=$(rows)
check_has "$T: paid: S1's screens count a paid order" "placed,at,en,none,$V1,1,1,0,0,0,0,1,1" "$out"
check_has "$T: ... main too (the other five sessions did not order)" "main,at,en,none,$V1,6,0,1,0,0,0,1,1" "$out"
same "an order paid after its session" "$SINCE"
# S1's customer is in a named segment now (new): their next session counts under it
s=$(t_sid); hop "$s" "$X1" ""; hop "$s" "$X1" "5"; hop "$s" "$X1" "5*3"
wait_for 30 sh -c "[ \"\$(psql -X -qtAc \"SELECT count(*) FROM ussd_sessions WHERE started_at >= '$SINCE'\")\" -ge 7 ]"
out=$(rows)
check_has "$T: segment: a later session of S1's customer counts under new" "help_call,at,en,new,$V1,1,1,0,0,0,0,0,0" "$out"
check_has "$T: ... S1 stays under the segment it ended in" "placed,at,en,none,$V1,1,1,0,0,0,0,1,1" "$out"

out=$(ctl funnel --since "$SINCE" 2>&1)
check_match "$T: the table form has the same figures" "placed +at +en +none +$V1 +1 +1 +0 +0 +0 +0 +1 +1 +[0-9.]+" "$out"
check_match "$T: seconds per hop are given" "main +at +en +none +$V1 +6 .* [0-9]+\.[0-9]" "$out"
check_eq "$T: --by lang: one row per screen and language, the rest *" \
	"main,*,en,*,*,7,0,1,0,0,0,1,1 main,*,zu,*,*,1,0,0,0,0,0,0,0" \
	"$(rows --by lang | grep '^main,' | paste -sd ' ')"
check_eq "$T: --by none: one row per screen" "main,*,*,*,*,8,0,1,0,0,0,1,1" "$(rows --by none | grep '^main,')"
check_eq "$T: --by names the dimensions in any order, shown in the table's" "$(rows --by lang,front)" "$(rows --by front,lang)"
rc=0; out=$(ctl funnel 2>&1) || rc=$?
check_eq "$T: funnel without --since is a usage error" 2 "$rc"
rc=0; out=$(ctl funnel --since yesterday 2>&1) || rc=$?
check_has "$T: a bad --since says what it takes" "--since is YYYY-MM-DD" "$out"
rc=0; out=$(ctl funnel --since 1d --by colour 2>&1) || rc=$?
check_eq "$T: a bad --by is a usage error that says what it takes" "2 spazactl: --by is front, lang, segment, version (comma-separated) or none, not colour" "$rc $out"
out=$(ctl funnel --since 2999-01-01 2>&1)
check_has "$T: nothing since a future day" "no sessions since 2999-01-01" "$out"

# ---- the menu's version
out=$("$SPAZAD" -C -c "$OWN_CFG" 2>&1)
check_has "$T: version: spazad -C names each menu's version" "menu shop version $V1 ($MENUS/shop.yaml)" "$out"
out=$(vty_do "show menus")
check_match "$T: version: show menus lists it" "shop +$V1 +\*120\*777# +$MENUS/shop.yaml" "$out"
# a dialogue begun before the file changes keeps its menu, and its version, to the end
# (a second of its own: SV is whole seconds, and the session above began a moment ago)
next_second
SV=$(psql_val "SELECT to_char(now(), 'YYYY-MM-DD\"T\"HH24:MI:SS')")
X6=$(t_phone 44) X7=$(t_phone 44)
s7=$(t_sid); hop "$s7" "$X7" ""
printf '# changed for %s\n' "$T" >> "$MENUS/shop.yaml"
V2=$(sha256sum "$MENUS/shop.yaml" | cut -c1-8)
check_eq "$T: version: menu reload with the changed file" "menus reloaded" "$(vty_do 'menu reload')"
hop "$s7" "$X7" "5"; hop "$s7" "$X7" "5*3"
check_match "$T: version: show menus has the new version" "shop +$V2 " "$(vty_do 'show menus')"
s=$(t_sid); hop "$s" "$X6" ""; hop "$s" "$X6" "5"; hop "$s" "$X6" "5*3"
wait_for 30 sh -c "[ \"\$(psql -X -qtAc \"SELECT count(*) FROM ussd_sessions WHERE started_at >= '$SV'\")\" -ge 2 ]"
check_eq "$T: version: a new session carries the new version, one begun before the reload its own" "$V2 $V1" \
	"$(psql_val "SELECT string_agg(s.menu_version, ' ' ORDER BY c.msisdn = '$(e164 "$X7")') FROM ussd_sessions s
		JOIN customers c ON c.id = s.customer_id WHERE s.started_at >= '$SV'")"
# a version the file names itself
sed -i "1i version: it-funnel-$$" "$MENUS/shop.yaml"
vty_do 'menu reload' >/dev/null
s=$(t_sid); hop "$s" "$X6" ""; hop "$s" "$X6" "5"; hop "$s" "$X6" "5*3"
wait_for 30 sh -c "[ \"\$(psql -X -qtAc \"SELECT count(*) FROM ussd_sessions WHERE started_at >= '$SV'\")\" -ge 3 ]"
check_eq "$T: version: the file's own version: goes on the sessions" "it-funnel-$$" \
	"$(psql_val "SELECT menu_version FROM ussd_sessions WHERE started_at >= '$SV' ORDER BY started_at DESC LIMIT 1")"
check_eq "$T: version: --by version splits the screens by it" \
	"$(printf 'help_call,*,*,*,%s,1\n' "$V1" "$V2" "it-funnel-$$" | sort | paste -sd ' ')" \
	"$(ctl funnel --since "$SV" --by version --csv | grep '^help_call,' | cut -d, -f1-6 | sort | paste -sd ' ')"
same "three menu versions" "$SV"

# ---- the roll-up against the sessions: days, midnight, a duplicate
# Days are UTC days: so are the times below
export PGTZ=UTC
# Sessions of a day two days back written by hand (as a restore or a seeding script would):
# one across midnight (counted on the day it started), one at midnight sharp, one just before,
# and the same row twice (the second is skipped, and so is its roll-up).
M=$(psql_val "SELECT to_char(date_trunc('day', now() AT TIME ZONE 'UTC') - interval '1 day', 'YYYY-MM-DD HH24:MI:SS')")
ins() { # ins REF START-OFFSET SECONDS OUTCOME SCREENS [LANG SEGMENT VERSION]
	psql_val "INSERT INTO ussd_sessions (customer_id, channel, session_ref, service_code, started_at, ended_at, outcome,
		hops, screens, lang, segment, menu_version) VALUES ($CUST, 'kannel', 'it-funnel-$$-$1', '*120*777#',
		'$M+00'::timestamptz + interval '$2', '$M+00'::timestamptz + interval '$2' + interval '$3 s', '$4',
		3, '$5', ${6:-'en'}, ${7:-'top'}, ${8:-'hand'}) ON CONFLICT DO NOTHING" >/dev/null
}
ins across '-10 s' 40 completed 'main categories main help help_call'
ins sharp '0 s' 7 timeout 'main categories products'
ins before '-1 s' 3 abandoned 'main'
ins dup '-2 h' 9 completed 'main orders'
ins dup '-2 h' 9 completed 'main orders'
ins nulls '2 h' 5 error 'main help' NULL NULL NULL
for since in "$(date -u -d "$M 1 day ago" '+%Y-%m-%dT%H:%M:%S')" "$(date -u -d "$M 5 seconds ago" '+%Y-%m-%dT%H:%M:%S')" \
	"$(date -u -d "$M" '+%Y-%m-%dT%H:%M:%S')" "$(date -u -d "$M 5 seconds" '+%Y-%m-%dT%H:%M:%S')" 3d; do
	same "sessions across midnight" "$since"
done
check_has "$T: the session across midnight counts on the day it started, the one before midnight too" \
	"main,kannel,en,top,hand,5,0,0,1,0,0,0,0" \
	"$(ctl funnel --since "$(date -u -d "$M 1 day ago" '+%Y-%m-%dT%H:%M:%S')" --csv | cut -d, -f1-13)"
check_has "$T: ... from midnight on, only the one at midnight sharp" "main,kannel,en,top,hand,1,0,0,0,0,0,0,0" \
	"$(ctl funnel --since "$(date -u -d "$M" '+%Y-%m-%dT%H:%M:%S')" --csv | cut -d, -f1-13)"
check_has "$T: a row without language, segment or version counts as -, none, -" "help,kannel,-,none,-,1,0,0,0,1,0,0,0" \
	"$(ctl funnel --since "$(date -u -d "$M" '+%Y-%m-%dT%H:%M:%S')" --csv | cut -d, -f1-13)"
unset PGTZ

# ---- rebuilt from every session: the roll-up the trigger kept, to the byte, and again the same
digest="SELECT md5(string_agg(f::text, ';' ORDER BY day, screen, channel, lang, segment, menu_version)) FROM funnel_daily f"
out=$(psql -X -qtA -v ON_ERROR_STOP=1 <<SQL
BEGIN;
LOCK TABLE funnel_daily IN EXCLUSIVE MODE;
$digest;
SELECT n_rows > 0 FROM spaza_funnel_rebuild();
$digest;
SELECT n_rows > 0 FROM spaza_funnel_rebuild();
$digest;
COMMIT;
SQL
)
read -r kept ok1 once ok2 twice <<<"$(echo $out)"
check_eq "$T: rebuild: every session's roll-up as the trigger kept it, to the byte" "$kept t" "$once $ok1"
check_eq "$T: rebuild: ... and the same again (idempotent)" "$once t" "$twice $ok2"
out=$(ctl funnel --rebuild 2>&1)
check_match "$T: rebuild: spazactl funnel --rebuild says what it made" "^funnel roll-up rebuilt from the sessions: [0-9]+ rows over [0-9]+ days$" "$out"
same "after the rebuild" "$SINCE"
rc=0; ctl funnel --rebuild --csv >/dev/null 2>&1 || rc=$?
check_eq "$T: rebuild: --rebuild takes nothing else" 2 "$rc"

# ---- a restart: the roll-up is in the database, new sessions add to it
before=$(rows --by none | grep '^main,')
own_down "$T"
own_up funnel " session idle-timeout 2" " menus $MENUS" || { fail "$T: own spazad starts again (see $OWN_LOG)"; exit 0; }
n=$(sessions_since "$SINCE")
s=$(t_sid); hop "$s" "$X3" ""; hop "$s" "$X3" "5"; hop "$s" "$X3" "5*3"
wait_for 30 sh -c "[ \"\$(psql -X -qtAc \"SELECT count(*) FROM ussd_sessions WHERE started_at >= '$SINCE'\")\" -gt $n ]"
IFS=, read -r -a b <<<"$before"
IFS=, read -r -a a <<<"$(rows --by none | grep '^main,')"
check_eq "$T: restart: main's entries go on from where they were" "$((b[5] + 1))" "${a[5]}"
same "after a restart" "$SINCE"
own_down "$T"

# the reports read the same history
out=$(ctl report sales --since 1d 2>&1)
check_match "$T: report sales has today's line" "^day  orders  paid  revenue  customers"$'\n'"$(date +%Y-%m-%d)  [0-9]+  [0-9]+  R[0-9.]+  [0-9]+" "$out"
out=$(ctl report payments --since 1d 2>&1)
check_match "$T: report payments lists credit" "credit  [0-9]+  R[0-9.]+" "$out"
out=$(ctl report repeat --since 1d 2>&1)
check_match "$T: report repeat has the new segment's buyers" "new  [0-9]+  [0-9]+  [0-9.]+" "$out"
for k in credit-ageing vouchers settlements; do
	rc=0; ctl report "$k" --since 30d >/dev/null 2>&1 || rc=$?
	check_eq "$T: report $k runs" 0 "$rc"
done
rc=0; ctl report bogus >/dev/null 2>&1 || rc=$?
check_eq "$T: an unknown report is a usage error" 2 "$rc"
