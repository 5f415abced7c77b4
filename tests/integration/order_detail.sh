# My orders pages through every order of the customer; an order's detail shows its lines,
# total, payment, slip and history; cancel gives stock and slips back once; reorder makes a
# new basket of the same lines.
source "$(dirname "$0")/lib.sh"

stock() { psql_val "SELECT stock FROM products WHERE id = $1"; }
ctl() { "$SPAZA_TOP/src/spazactl" -c "$SPAZA_CFG" "$@"; }

# order unpaid-max (5) would refuse the sixth unpaid order: raised for this test, put back after
set_cap() {
	vty_open "$SPAZA_VTY_PORT" && vty "enable" >/dev/null && vty "configure terminal" >/dev/null &&
		vty "spaza" >/dev/null && vty "order unpaid-max $1" >/dev/null && vty "end" >/dev/null
	vty_close
}
set_cap 20
at_exit set_cap 5

# ---- seven orders: three pages of three, three and one, newest first
P=$(t_phone 22)
for i in 1 2 3 4 5 6 7; do
	r=$(ussd "$(t_sid)" "$P" "1*1*1*1*$i*1")
	ids[$i]=$(sed -nE 's/^END Order #([0-9]+) placed.*/\1/p' <<<"$r")
done
check_match "seven orders placed" '^[0-9]+$' "${ids[7]}"
S=$(t_sid)
r=$(ussd "$S" "$P" "2")
check_eq "My orders shows the three newest with More" \
	"CON Your orders:"$'\n'"1. #${ids[7]} R125.93 Awaiting payment"$'\n'"2. #${ids[6]} R107.94 Awaiting payment"$'\n'"3. #${ids[5]} R89.95 Awaiting payment"$'\n'"98. More"$'\n'"0. Back" "$r"
r=$(ussd "$S" "$P" "2*98")
check_match "More shows the next three" \
	"^CON Your orders:"$'\n'"1\. #${ids[4]} R71\.96 .*"$'\n'"3\. #${ids[2]} R35\.98 Awaiting payment"$'\n'"98\. More"$'\n'"0\. Back\$" "$r"
r=$(ussd "$S" "$P" "2*98*98")
check_eq "the last page has the oldest order and no More" \
	"CON Your orders:"$'\n'"1. #${ids[1]} R17.99 Awaiting payment"$'\n'"0. Back" "$r"
r=$(ussd "$S" "$P" "2*98*98*7")
check_eq "a number not on the page says so" \
	"CON Invalid choice."$'\n'"Your orders:"$'\n'"1. #${ids[1]} R17.99 Awaiting payment"$'\n'"0. Back" "$r"

# ---- the detail of an unpaid order, its history
r=$(ussd "$S" "$P" "2*98*98*7*1")
check_eq "the detail shows status, total, lines and what can be done" \
	"CON #${ids[1]} Awaiting payment R17.99"$'\n'"1x White bread 700g"$'\n'"1. Pay"$'\n'"2. Cancel order"$'\n'"3. Reorder"$'\n'"4. History"$'\n'"5. Report a problem"$'\n'"0. Back" "$r"
r=$(ussd "$S" "$P" "2*98*98*7*1*4")
check_match "history lists the order placed with its time" \
	"^CON Order #${ids[1]}:"$'\n'"Awaiting payment [0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}"$'\n'"1\. Main menu"$'\n'"0\. Back\$" "$r"
r=$(ussd "$S" "$P" "2*98*98*7*1*4*0*1*1")
check_match "Pay from the detail offers the payment methods of that order" "^CON Pay R17\.99 for order #${ids[1]} with:" "$r"
r=$(ussd "$(t_sid)" "$P" "2*1*5")
check_eq "Report a problem from the detail asks care's question about that order" \
	"CON Order #${ids[7]}: what went wrong?"$'\n'"1. Not delivered"$'\n'"2. Wrong or damaged item"$'\n'"3. Charged twice"$'\n'"4. I want a refund"$'\n'"5. Other"$'\n'"0. Back" "$r"
r=$(ussd "$(t_sid)" "$P" "2*1*5*1")
check_match "... and opens a ticket on it" "^END Thank you\. Ticket #[0-9]+ is open for order #${ids[7]}\. " "$r"
check_eq "... a not_delivered ticket on that order, by USSD" "not_delivered|ussd|open" \
	"$(psql_val "SELECT kind || '|' || channel || '|' || state FROM care_tickets WHERE order_id = ${ids[7]}")"

# ---- a slip on the order: shown on the detail, voided by cancel, with the stock back, once
r=$(ussd "$(t_sid)" "$P" "3*${ids[2]}*3")
check_match "a slip is made for an order" "^END Pay R35\.98 at any till with slip " "$r"
S=$(t_sid)
r=$(ussd "$S" "$P" "2*98*3")
check_match "the detail of an order with a slip shows the slip and its last day" \
	"^CON #${ids[2]} R35\.98"$'\n'"Slip 9[0-9 ]+ by [0-9]{4}-[0-9]{2}-[0-9]{2}"$'\n'"2x White bread 700g"$'\n'"1\. Cancel order" "$r"
before=$(stock 101)
r=$(ussd "$S" "$P" "2*98*3*1")
check_eq "cancel asks first" "CON Cancel order #${ids[2]} (R35.98)?"$'\n'"1. Yes, cancel"$'\n'"2. No" "$r"
r=$(ussd "$S" "$P" "2*98*3*1*1")
check_eq "cancel confirms" "END Order #${ids[2]} is cancelled." "$r"
check_eq "the stock is back at once" $((before + 2)) "$(stock 101)"
check_eq "the slip is voided at once" voided "$(psql_val "SELECT status FROM slips WHERE order_id = ${ids[2]}")"
r2=$(ussd "$S" "$P" "2*98*3*1*1")
check_eq "the cancelling hop repeated gets the same answer" "$r" "$r2"
check_eq "... and gives nothing back twice" $((before + 2)) "$(stock 101)"
cust=$(psql_val "SELECT id FROM customers WHERE msisdn = '$(e164 "$P")'")
check_eq "cancelling a cancelled order again answers cancelled" "cancelled" \
	"$(psql_val "SELECT outcome FROM spaza_order_cancel_unpaid(${ids[2]}, $cust)")"
check_eq "... and still gives nothing back twice" $((before + 2)) "$(stock 101)"
check_eq "another customer cannot cancel the order" "not_found" \
	"$(psql_val "SELECT outcome FROM spaza_order_cancel_unpaid(${ids[3]}, $cust + 100000)")"
r=$(ussd "$(t_sid)" "$P" "2*98*3")
check_match "the cancelled order's detail offers no pay or cancel" \
	"^CON #${ids[2]} Cancelled R35\.98"$'\n'"2x White bread 700g"$'\n'"1\. Reorder"$'\n'"2\. History" "$r"
r=$(ussd "$(t_sid)" "$P" "2*98*3*2")
check_match "its history has the cancellation after the placing" \
	"^CON Order #${ids[2]}:"$'\n'"Awaiting payment [0-9: -]+"$'\n'"Cancelled [0-9: -]+"$'\n'"1\. Main menu" "$r"

# ---- a paid order: how it was paid; rate it (care's screen, on that order)
ctl credit set-limit "$P" 1000 >/dev/null
r=$(ussd "$(t_sid)" "$P" "3*${ids[3]}*2*1")
check_match "an order paid from credit" "^END Order #${ids[3]} \(R53\.97\) paid from your credit" "$r"
r=$(ussd "$(t_sid)" "$P" "2*98*2")
check_eq "the paid order's detail says how it was paid" \
	"CON #${ids[3]} Paid, on credit R53.97"$'\n'"3x White bread 700g"$'\n'"1. Reorder"$'\n'"2. History"$'\n'"3. Report a problem"$'\n'"4. Rate"$'\n'"0. Back" "$r"
r=$(ussd "$(t_sid)" "$P" "2*98*2*4")
check_eq "Rate from the detail acts on that order: not delivered yet" \
	"END Order #${ids[3]} is Paid. You can rate it once it is delivered." "$r"
ctl order status "${ids[3]}" shipped >/dev/null
ctl order status "${ids[3]}" delivered >/dev/null
r=$(ussd "$(t_sid)" "$P" "2*98*2*4*4")
check_eq "... and once delivered, rates it" \
	"END Thank you! You gave order #${ids[3]} 4 out of 5. We will SMS you a confirmation." "$r"
check_eq "... stored as that order's rating" "4|ussd" "$(psql_val "SELECT stars || '|' || channel FROM ratings WHERE order_id = ${ids[3]}")"

# ---- reorder: a new basket with the same lines, checked out as a new order
S=$(t_sid)
r=$(ussd "$S" "$P" "2*98*2*1")
check_eq "reorder makes a basket of the order's lines at today's prices" \
	"CON New basket: R53.97"$'\n'"1. Check out"$'\n'"2. View items" "$r"
r=$(ussd "$S" "$P" "2*98*2*1*1*1*7 Reorder Lane*2*1")
check_match "the reordered basket is placed" "^CON Order #[0-9]+ placed: R53\.97\." "$r"
new=$(sed -nE 's/^CON Order #([0-9]+) placed.*/\1/p' <<<"$r")
check_eq "the new order has the same lines" "3x101" \
	"$(psql_val "SELECT string_agg(qty || 'x' || product_id, ',') FROM order_items WHERE order_id = $new")"
check_true "the order's own number differs from the one reordered" "same number" test "$new" != "${ids[3]}"

# ---- someone else's order number is not found
Q=$(t_phone 22)
check_eq "a customer with no orders sees so" \
	"CON You have no orders yet."$'\n'"0. Back" "$(ussd "$(t_sid)" "$Q" "2")"

check_true "spazactl ledger check passes" "the ledger check failed" ctl ledger check
