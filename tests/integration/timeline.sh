# The customer's timeline (spazactl customer show): every session with its outcome, hops,
# screens and order, newest first, under one customer whatever form the number came in;
# an order is committed before its END screen is sent.
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
	"END Your orders:"$'\n'"#$ORDER 3x Coke 2L: Awaiting payment" "$r"

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
at *120*777# completed, 2 hops: main orders
$ORDER   at *120*777# completed, 1 hops: main categories products detail quantity confirm placed
at *120*777# completed, 2 hops: main help help_call"
check_eq "customer show lists the four sessions newest first with outcome, hops, screens and order" "$want" "$got"

out=$(ctl customer show "$P")
check_match "customer show starts with the customer's E.164 number and language" \
	"^customer  \\$E"$'\n'"language  en"$'\n'"since     [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}"$'\n' "$out"
check_match "customer show lists the order with its total and status" \
	"  order +$ORDER +R83\\.97, now awaiting_payment" "$out"
# the order line sits between the session that placed it and the next one
order_pos=$(grep -nE "  order +$ORDER " <<<"$out" | cut -d: -f1)
placed_pos=$(grep -nE "  session +$ORDER .*confirm placed$" <<<"$out" | cut -d: -f1)
orders_pos=$(grep -n " main orders$" <<<"$out" | cut -d: -f1)
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
ussd "$(t_sid)" "$Q" "2" >/dev/null		# main orders
ussd "$(t_sid)" "$Q" "3*1" >/dev/null		# main pay_order pay_with order_not_found
wait_for 15 n_sessions "$Q" 3
check_eq "sessions started within one second are listed newest first" \
	"main pay_order pay_with order_not_found|main orders|main help help_call" \
	"$(sessions_of "$Q" | sed 's/.*hops: //' | paste -sd'|')"

# staff cancel the order: the customer sees it, and Pay no longer offers to pay it
# (not "paid": a paid order without its payment would break the ledger's invariants)
r=$(ctl order status "$ORDER" cancelled)
check_eq "order status answers with the change" "order #$ORDER: awaiting_payment -> cancelled" "$r"
r=$(ussd "$(t_sid)" "$P" "2")
check_eq "my orders shows the new status" "END Your orders:"$'\n'"#$ORDER 3x Coke 2L: Cancelled" "$r"
r=$(ussd "$(t_sid)" "$P" "3*$ORDER")
check_eq "Pay of a cancelled order says it is cancelled" "END Order #$ORDER is Cancelled." "$r"

# errors
out=$(ctl customer show 0829919999 2>&1); rc=$?
check_eq "customer show of an unknown number exits 1 with a message" "1|spazactl: no customer +27829919999" "$rc|$out"
out=$(ctl customer show 12ab 2>&1); rc=$?
check_eq "customer show of something that is no phone number exits 2" 2 "$rc"
check_has "customer show of something that is no phone number says so" '"12ab" is not a phone number' "$out"
