# The customer's timeline (spazactl customer show): every session with its outcome, hops,
# screens and order, newest first, under one customer whatever form the number came in;
# an order is committed before its END screen is sent. The merged timeline (sql/011_care.sql):
# sessions, SMS, orders, notes ... in one list and as JSON; a customer with 10,000 events paged
# whole and read through its indexes.
source "$(dirname "$0")/lib.sh"

P=$(t_phone 10)			# national form, 08299 10xxx
E=$(e164 "$P")			# +278299 10xxx
I=${E#+}			# international without the plus: 278299 10xxx
ctl() { "$SPAZACTL" -c "$SPAZA_CFG" "$@"; }
# the session lines of the timeline as printed, without the time stamp
sessions_of() { ctl customer show "$1" 2>&1 | sed -n 's/^[0-9-]* [0-9:]*  session  *//p'; }
n_sessions() { [ "$(ctl customer show "$1" 2>/dev/null | grep -c '  session  ')" -ge "$2" ]; }

# 1. a help session of two hops, in the national form
s1=$(t_sid)
ussd "$s1" "$P" "" >/dev/null
r=$(ussd "$s1" "$P" "5*3")
check_eq "help (Call us) ends the session" "END Spaza help: call 0800 555 123 (free) or SMS HELP to 31555." "$r"

# 2. an order in one hop, in E.164: committed with the right total before the END arrives
next_second
s2=$(t_sid)
r=$(ussd "$s2" "$E" "1*2*1*1*3*1")
row=$(psql_val "SELECT o.status || '|' || o.qty || '|' || o.total_cents || '|' || p.name || '|' || c.msisdn
	FROM orders o JOIN products p ON p.id = o.product_id JOIN customers c ON c.id = o.customer_id
	WHERE o.id = $(sed -n 's/^END Order #\([0-9]*\) placed.*/\1/p' <<<"$r" | grep . || echo 0)")
check_match "the order hop ends with the order number" '^END Order #[0-9]+ placed\. Pay via option 3\.$' "$r"
ORDER=$(sed -n 's/^END Order #\([0-9]*\) placed.*/\1/p' <<<"$r")
check_eq "the order is in the database, awaiting payment, 3 x R27.99 = 8397 cents, when its END arrives" \
	"awaiting_payment|3|8397|Coke 2L|$E" "$row"

# 3. my orders, from the number without "+"
next_second
s3=$(t_sid)
ussd "$s3" "$I" "" >/dev/null
r=$(ussd "$s3" "$I" "2")
check_eq "my orders (international form without +) lists the order placed in E.164 form" \
	"CON Your orders:"$'\n'"1. #$ORDER R83.97 Awaiting payment"$'\n'"0. Back" "$r"
ussd "$s3" "$I" "2*0*5*3" >/dev/null	# back, help, call us: the session ends

# 4. a pay lookup, back and help in one hop, from the 00-prefixed international form
next_second
s4=$(t_sid)
r=$(ussd "$s4" "00$I" "3*${ORDER}*0*5*3")
check_eq "a pay lookup, back and help in one hop (0027 form) ends with help" \
	"END Spaza help: call 0800 555 123 (free) or SMS HELP to 31555." "$r"

n=$(psql_val "SELECT count(*) FROM customers WHERE msisdn IN ('$E', '$P', '$I', '00$I')")
check_eq "four forms of one number make one customer record, keyed by E.164" 1 "$n"

# the timeline rows are written when sessions end, in batches: poll until all four are there
wait_for 15 n_sessions "$P" 4
got=$(sessions_of "$P")
want="at *120*777# completed, 1 hops: main pay_order pay_with main help help_call
at *120*777# completed, 3 hops: main orders main help help_call
$ORDER   at *120*777# completed, 1 hops: main categories products detail quantity confirm placed
at *120*777# completed, 2 hops: main help help_call"
check_eq "customer show lists the four sessions newest first with outcome, hops, screens and order" "$want" "$got"

out=$(ctl customer show "$P")
check_match "customer show starts with the customer's E.164 number and language" \
	"^customer  \\$E"$'\n'"language  en"$'\n'"since     [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}"$'\n' "$out"
check_match "customer show lists the order placed with its lines and total" \
	"  order_placed +$ORDER +order #$ORDER placed: 1 line\\(s\\), R83\\.97" "$out"
# the order line sits between the session that placed it and the next one
order_pos=$(grep -nE "  order_placed +$ORDER " <<<"$out" | cut -d: -f1)
placed_pos=$(grep -nE "  session +$ORDER .*confirm placed$" <<<"$out" | cut -d: -f1)
orders_pos=$(grep -n " main orders main help help_call$" <<<"$out" | cut -d: -f1)
check_true "the order line comes after (is newer than) the session that placed it, before the next session" \
	"got order at line ${order_pos:-none}, placing session at ${placed_pos:-none}, next session at ${orders_pos:-none}" \
	test "${order_pos:-0}" -lt "${placed_pos:-0}" -a "${order_pos:-0}" -gt "${orders_pos:-0}"

for form in "$E" "$I" "00$I"; do
	check_eq "customer show $form gives the same customer and timeline as $P" "$out" "$(ctl customer show "$form" 2>&1)"
done
check_eq "order list of the customer shows the order" 1 "$(ctl order list "$E" | grep -c "^#$ORDER .* awaiting_payment .* R83.97  3 x Coke 2L$")"

# sessions started within the same second are still newest first
Q=$(t_phone 10)
next_second
ussd "$(t_sid)" "$Q" "5*3" >/dev/null		# main help help_call
ussd "$(t_sid)" "$Q" "2*0*5*3" >/dev/null	# main orders main help help_call
ussd "$(t_sid)" "$Q" "3*1" >/dev/null		# main pay_order pay_with order_not_found
wait_for 15 n_sessions "$Q" 3
check_eq "sessions started within one second are listed newest first" \
	"main pay_order pay_with order_not_found|main orders main help help_call|main help help_call" \
	"$(sessions_of "$Q" | sed 's/.*hops: //' | paste -sd'|')"

# staff cancel the order: the customer sees it, and Pay no longer offers to pay it
# (not "paid": a paid order without its payment would break the ledger's invariants)
r=$(ctl order status "$ORDER" cancelled)
check_eq "order status answers with the change" "order #$ORDER: awaiting_payment -> cancelled" "$r"
r=$(ussd "$(t_sid)" "$P" "2")
check_eq "my orders shows the new status" "CON Your orders:"$'\n'"1. #$ORDER R83.97 Cancelled"$'\n'"0. Back" "$r"
r=$(ussd "$(t_sid)" "$P" "3*$ORDER")
check_eq "Pay of a cancelled order says it is cancelled" "END Order #$ORDER is Cancelled." "$r"

# errors
out=$(ctl customer show 0829919999 2>&1); rc=$?
check_eq "customer show of an unknown number exits 1 with a message" "1|spazactl: no customer +27829919999" "$rc|$out"
out=$(ctl customer show 12ab 2>&1); rc=$?
check_eq "customer show of something that is no phone number exits 2" 2 "$rc"
check_has "customer show of something that is no phone number says so" '"12ab" is not a phone number' "$out"
out=$(ctl customer show "$P" --limit 0 2>&1); rc=$?
check_eq "customer show --limit 0 is a usage error" "2|spazactl: --limit: a number from 1 to 1000" "$rc|$out"
out=$(ctl customer show "$P" --before yesterday-ish 2>&1); rc=$?
check_eq "customer show --before with no time exits 1" 1 "$rc"

# ---- the merged timeline (sql/011_care.sql): SMS, notes and sessions in one list, newest first
R=$(t_phone 10)
ussd "$(t_sid)" "$R" "5*3" >/dev/null	# help, call us: the session ends
next_second
curl -sS --max-time 20 --noproxy '*' -G --data-urlencode "from=$R" --data-urlencode "to=31555" \
	--data-urlencode "text=help" --data-urlencode "id=it-tl-$$-$RANDOM" --data-urlencode "smsc=it" "$SPAZA_URL/kannel/mo" >/dev/null
next_second
ctl customer note "$R" "asked about delivery times" >/dev/null
wait_for 15 n_sessions "$R" 1
kinds=$(ctl customer show "$R" | sed -n 's/^[0-9-]* [0-9:]*  \([a-z_]*\) .*/\1/p' | paste -sd' ')
check_eq "customer show merges sessions, SMS and notes into one list, newest first" "note sms_out sms_in session" "$kinds"
json=$(ctl customer show "$R" --json)
check_eq "customer show --json: the same events for the back office, with the customer and no next page" \
	"$(e164 "$R")|note,sms_out,sms_in,session|None" \
	"$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["customer"] + "|" + ",".join(e["kind"] for e in d["events"]) + "|" + str(d["next_before"]))' <<<"$json")"
check_match "customer show --json: each event has its time (UTC, microseconds), ref and summary" \
	'"at": "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z",.*"kind": "note",.*"summary": ".*asked about delivery times' \
	"$(tr '\n' ' ' <<<"$json")"

# ---- money and orders on the merged timeline (sql/016_wiring.sql): a payment, a refund and
# status changes (paid, cancelled) among the order placements, in time order, each once
source "$(dirname "$0")/money_lib.sh"
M=$(money_customer)
MV=$(money_voucher 1000)
MO1=$(money_order "$M" 500)
next_second
check_eq "a R5 order paid by voucher" paid \
	"$(psql_val "SELECT outcome FROM spaza_voucher_redeem('$(money_key)', decode('$MV', 'hex'), $M, $MO1)")"
next_second
ctl refund "$MO1" --amount 2 --reason "one loaf was stale" >/dev/null
next_second
MO2=$(money_order "$M" 300)
next_second
ctl order status "$MO2" cancelled >/dev/null
got=$(ctl customer show "$(msisdn_of "$M")" --json | python3 -c 'import json,sys
print("|".join(e["kind"] + " " + e["ref"] + ": " + e["summary"] for e in json.load(sys.stdin)["events"]
	if e["kind"] in ("order_placed", "order_status", "payment", "refund")))')
want="order_status $MO2: order #$MO2 awaiting_payment -> cancelled|order_placed $MO2: order #$MO2 placed: 1 line(s), R3.00"
want+="|refund $MO1: refund R2.00 for order #$MO1 to voucher|order_status $MO1: order #$MO1 awaiting_payment -> paid"
want+="|payment $MO1: paid R5.00 for order #$MO1 by voucher|order_placed $MO1: order #$MO1 placed: 1 line(s), R5.00"
check_eq "customer show: the orders' placements and status changes (paid, cancelled), the payment and the refund, newest first, once each" \
	"$want" "$got"

# ---- a customer with 10,000 events: answered correctly, page by page (the time is doc/benchmark.md's)
B=$(t_phone 10)
CID=$("$SPAZA_TOP/scripts/seed-timeline" "$(e164 "$B")" 10000 | tail -n 1)
check_match "seed-timeline made a customer with 10,000 events" '^[0-9]+$' "$CID"
psql_val "ANALYZE" >/dev/null 2>&1
want=$(psql_val "SELECT count(*) FROM (SELECT at FROM timeline_sessions WHERE customer_id = $CID
	UNION ALL SELECT at FROM timeline_sms WHERE customer_id = $CID UNION ALL SELECT at FROM timeline_orders WHERE customer_id = $CID UNION ALL SELECT at FROM timeline_money WHERE customer_id = $CID
	UNION ALL SELECT at FROM timeline_tickets WHERE customer_id = $CID UNION ALL SELECT at FROM timeline_ratings WHERE customer_id = $CID
	UNION ALL SELECT at FROM timeline_notes WHERE customer_id = $CID) x")
check_eq "the views hold the customer's 10,000 events" 10000 "$want"
newest=$(psql_val "SELECT string_agg(kind || ' ' || coalesce(ref, ''), ',') FROM (SELECT * FROM (SELECT at, kind, ref FROM timeline_sessions WHERE customer_id = $CID
	UNION ALL SELECT at, kind, ref FROM timeline_sms WHERE customer_id = $CID UNION ALL SELECT at, kind, ref FROM timeline_orders WHERE customer_id = $CID UNION ALL SELECT at, kind, ref FROM timeline_money WHERE customer_id = $CID
	UNION ALL SELECT at, kind, ref FROM timeline_tickets WHERE customer_id = $CID UNION ALL SELECT at, kind, ref FROM timeline_ratings WHERE customer_id = $CID
	UNION ALL SELECT at, kind, ref FROM timeline_notes WHERE customer_id = $CID) x ORDER BY at DESC, length(ref) DESC, ref DESC, kind LIMIT 100) y")
got=$(ctl customer show "$B" --json | python3 -c 'import json,sys; print(",".join(e["kind"] + " " + e["ref"] for e in json.load(sys.stdin)["events"]))')
check_eq "the first page is the newest 100 events, as the views themselves say" "$newest" "$got"
# every page in turn, 1,000 at a time: every event once, newest first
python3 - "$SPAZACTL" "$SPAZA_CFG" "$B" > "$T_TMP/pages" <<'PY'
import json, subprocess, sys
ctl, cfg, msisdn = sys.argv[1:4]
before, seen, pages = None, [], 0
while True:
    args = [ctl, "-c", cfg, "customer", "show", msisdn, "--json", "--limit", "1000"] + (["--before", before] if before else [])
    d = json.loads(subprocess.run(args, capture_output=True, check=True, text=True).stdout)
    pages += 1
    seen += [(e["at"], e["kind"], e["ref"]) for e in d["events"]]
    before = d["next_before"]
    if not before or pages > 20:
        break
print(pages, len(seen), len(set(seen)), all(seen[i][0] >= seen[i + 1][0] for i in range(len(seen) - 1)))
PY
check_eq "paging 1,000 at a time: 10 pages, every event once, newest first" "10 10000 10000 True" "$(cat "$T_TMP/pages")"
plan=$("$SPAZA_TOP/scripts/seed-timeline" --explain "$CID")
check_match "the timeline's plan reads each big table by its (customer, time) index" \
	"Index Scan using ussd_sessions_by_customer.*Index Scan using sms_messages_by_customer.*Index Scan using order_status_history_by_customer.*Index Scan using money_events_by_customer.*Index Scan using care_messages_by_customer.*Index Scan using ratings_by_customer.*Index Scan using customer_notes_by_customer" \
	"$(tr '\n' ' ' <<<"$plan")"
check_lacks "... and scans none of them whole" "Seq Scan on sms_messages" "$plan"
