# The journey funnel (spazactl funnel, doc/crm.md) on scripted dialogues through /ussd/at: per
# screen, language and front end the entries, the exits by END, timeout and abandon, the backs,
# and the conversion to an order and to a paid order, exactly as the dialogues went; the CSV
# export carries the same figures. An own spazad on the suite's database with a 2 s idle timeout.
source "$(dirname "$0")/lib.sh"
T=funnel
ctl() { "$SPAZACTL" -c "$SPAZA_CFG" "$@"; }
own_up funnel " session idle-timeout 2" || { fail "$T: own spazad starts (see $OWN_LOG)"; exit 0; }
hop() { ussd "$1" "$2" "$3" "*120*777#" "$OWN_URL" >/dev/null; }

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
check_eq "$T: six sessions on the timeline" 6 "$(psql_val "SELECT count(*) FROM ussd_sessions WHERE started_at >= '$SINCE'")"

# screen front lang segment entries end timeout abandon error back ordered paid
rows() { ctl funnel --since "$SINCE" --csv 2>&1 | cut -d, -f1-12; }
want="screen,front,lang,segment,entries,end,timeout,abandon,error,back,ordered,paid
categories,at,en,none,4,0,0,1,0,1,1,0
confirm,at,en,none,1,0,0,0,0,0,1,0
detail,at,en,none,1,0,0,0,0,0,1,0
help,at,en,none,1,0,0,0,0,0,0,0
help,at,zu,none,1,0,0,0,0,0,0,0
help_call,at,en,none,1,1,0,0,0,0,0,0
help_call,at,zu,none,1,1,0,0,0,0,0,0
main,at,en,none,6,0,1,0,0,0,1,0
main,at,zu,none,1,0,0,0,0,0,0,0
placed,at,en,none,1,1,0,0,0,0,1,0
products,at,en,none,2,0,1,0,0,0,1,0
quantity,at,en,none,1,0,0,0,0,0,1,0"
check_eq "$T: the funnel per screen: entries, exits by END/timeout/abandon, backs, orders" "$want" "$(rows)"

# S1's order paid (on credit, through the ledger's functions): the paid column follows, and
# the customer is in a named segment now (new)
CUST=$(psql_val "SELECT id FROM customers WHERE msisdn = '$(e164 "$X1")'")
psql_val "SELECT outcome FROM spaza_credit_set_limit($CUST, 100000)" >/dev/null
psql_val "SELECT outcome FROM spaza_credit_hold('it-funnel-$$', $CUST, $ORDER)" >/dev/null
psql_val "SELECT outcome FROM spaza_credit_post($ORDER)" >/dev/null
out=$(rows)
check_has "$T: paid: S1's screens count a paid order, under S1's segment (new)" "placed,at,en,new,1,1,0,0,0,0,1,1" "$out"
check_has "$T: ... and main splits by segment" "main,at,en,new,1,0,0,0,0,0,1,1" "$out"
check_has "$T: ... the rest of main stays under none" "main,at,en,none,5,0,1,0,0,0,0,0" "$out"

out=$(ctl funnel --since "$SINCE" 2>&1)
check_match "$T: the table form has the same figures" "placed +at +en +new +1 +1 +0 +0 +0 +0 +1 +1 +[0-9.]+" "$out"
check_match "$T: seconds per hop are given" "main +at +en +none +5 .* [0-9]+\.[0-9]" "$out"
rc=0; out=$(ctl funnel 2>&1) || rc=$?
check_eq "$T: funnel without --since is a usage error" 2 "$rc"
rc=0; out=$(ctl funnel --since yesterday 2>&1) || rc=$?
check_has "$T: a bad --since says what it takes" "--since is YYYY-MM-DD" "$out"
out=$(ctl funnel --since 2999-01-01 2>&1)
check_has "$T: nothing since a future day" "no sessions since 2999-01-01" "$out"

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
