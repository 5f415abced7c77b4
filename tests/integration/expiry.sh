# Unpaid orders expire after `order unpaid-expiry` hours (one with an open payment slip at its
# pay-by date, the date the customer was given): once, with their stock and slips
# given back and an SMS to the customer; a customer may hold at most `order unpaid-max`
# unpaid orders, the next is refused with a screen saying why.
source "$(dirname "$0")/lib.sh"

stock() { psql_val "SELECT stock FROM products WHERE id = $1"; }
ctl() { "$SPAZA_TOP/src/spazactl" -c "$SPAZA_CFG" "$@"; }
placed_id() { sed -nE 's/^(END|CON) Order #([0-9]+) placed.*/\2/p' <<<"$1"; }

P=$(t_phone 23)
# a basket of two products, and a one-product order with a slip
r=$(ussd "$(t_sid)" "$P" "1*1*1*2*2*1*1*2*2*1*3*1*3 Old Rd*2*1")
old=$(placed_id "$r")
check_match "a basket order is placed" '^[0-9]+$' "$old"
r=$(ussd "$(t_sid)" "$P" "1*1*3*1*1*1")
slipped=$(placed_id "$r")
ussd "$(t_sid)" "$P" "3*$slipped*3" >/dev/null
r=$(ussd "$(t_sid)" "$P" "1*1*4*1*1*1")
young=$(placed_id "$r")
check_match "three orders placed" '^[0-9]+$' "$young"
# an order to be paid cash on delivery: awaiting payment until the cash is confirmed, never expired
r=$(ussd "$(t_sid)" "$P" "1*1*1*1*1*1")
cod=$(placed_id "$r")
check_eq "an order to pay cash on delivery" ok \
	"$(psql_val "SELECT outcome FROM spaza_cod_choose((SELECT customer_id FROM orders WHERE id = ${cod:-0}), ${cod:-0})")"

psql -X -qc "UPDATE orders SET created_at = now() - interval '73 hours' WHERE id IN ($old, $slipped, ${cod:-0})" >/dev/null
white=$(stock 101) brown=$(stock 102) maize=$(stock 103)
out=$(ctl order expire 2>&1)
check_eq "spazactl order expire expires the order older than 72 hours with no open slip" \
	"1 unpaid order(s) older than 72 hours expired" "$out"
check_eq "the old basket order is expired" expired "$(psql_val "SELECT status FROM orders WHERE id = $old")"
check_eq "the young order is still awaiting payment" awaiting_payment "$(psql_val "SELECT status FROM orders WHERE id = $young")"
check_eq "the cash-on-delivery order as old is not expired: still awaiting its cash" awaiting_payment \
	"$(psql_val "SELECT status FROM orders WHERE id = ${cod:-0}")"
check_eq "the order as old with an open slip waits for the slip's pay-by date" awaiting_payment \
	"$(psql_val "SELECT status FROM orders WHERE id = $slipped")"
check_eq "... and its slip stays payable" open "$(psql_val "SELECT status FROM slips WHERE order_id = $slipped")"
check_eq "the first line's stock is back" $((white + 2)) "$(stock 101)"
check_eq "the second line's stock is back" $((brown + 1)) "$(stock 102)"
psql -X -qc "UPDATE slips SET expires_at = now() - interval '1 minute' WHERE order_id = $slipped" >/dev/null
out=$(ctl order expire 2>&1)
check_eq "once the slip's pay-by date has passed, the order expires" \
	"1 unpaid order(s) older than 72 hours expired" "$out"
check_eq "the slipped order's stock is back" $((maize + 1)) "$(stock 103)"
check_eq "the expired order's slip is voided" voided "$(psql_val "SELECT status FROM slips WHERE order_id = $slipped")"
check_eq "the customer is sent one SMS per expired order" 2 \
	"$(psql_val "SELECT count(*) FROM sms_messages WHERE order_id IN ($old, $slipped) AND order_status = 'expired'")"
check_eq "the status history has the expiry" 1 \
	"$(psql_val "SELECT count(*) FROM order_status_history WHERE order_id = $old AND status = 'expired'")"
check_eq "the timeline view shows the expiry" 1 \
	"$(psql_val "SELECT count(*) FROM timeline_orders WHERE ref = '$old' AND summary LIKE '%-> expired'")"
out=$(ctl order expire 2>&1)
check_eq "a second run expires nothing more" "0 unpaid order(s) older than 72 hours expired" "$out"
check_eq "... and gives no stock back twice" $((white + 2)) "$(stock 101)"
check_eq "... and sends no second SMS" 2 \
	"$(psql_val "SELECT count(*) FROM sms_messages WHERE order_id IN ($old, $slipped) AND order_status = 'expired'")"
r=$(ussd "$(t_sid)" "$P" "3*$old")
check_eq "an expired order cannot be paid" "END Order #$old is Expired." "$r"
out=$(ctl order expire 0 2>&1)
check_has "spazactl order expire refuses a bad number of hours" "HOURS must be a number from 1 to 8760" "$out"

# ---- spazad's own sweep (every minute) does the same without anyone asking
r=$(ussd "$(t_sid)" "$P" "1*1*5*1*1*1")
swept=$(placed_id "$r")
psql -X -qc "UPDATE orders SET created_at = now() - interval '73 hours' WHERE id = ${swept:-0}" >/dev/null
sugar=$(stock 105)
swept_yet() { sleep 1; [ "$(psql_val "SELECT status FROM orders WHERE id = ${swept:-0}")" = expired ]; }
wait_for 90 swept_yet
check_eq "spazad's sweep expires an old unpaid order within a minute and a half" expired \
	"$(psql_val "SELECT status FROM orders WHERE id = ${swept:-0}")"
check_eq "... with its stock back" $((sugar + 1)) "$(stock 105)"

# ---- the cap: five unpaid orders at once, the sixth is refused until one is paid or cancelled
C=$(t_phone 23)
for i in 1 2 3 4 5; do ussd "$(t_sid)" "$C" "1*1*1*1*1*1" >/dev/null; done
r=$(ussd "$(t_sid)" "$C" "1*1*1*2*1*3*1*9 Cap St*2*1")
check_eq "a sixth unpaid order is refused with a screen that says why" \
	"END You have too many unpaid orders. Pay or cancel one in My orders first." "$r"
check_eq "the refused order is not made" 5 \
	"$(psql_val "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.msisdn = '$(e164 "$C")'")"
ussd "$(t_sid)" "$C" "2*1*2*1" >/dev/null	# My orders > newest > Cancel order > Yes
r=$(ussd "$(t_sid)" "$C" "1*1*1*2*1*3*1*9 Cap St*2*1")
check_match "with one cancelled, the next order is placed" "^CON Order #[0-9]+ placed" "$r"
capped=$(sed -nE 's/^CON Order #([0-9]+) placed.*/\1/p' <<<"$r")
psql_val "SELECT outcome FROM spaza_cod_choose((SELECT customer_id FROM orders WHERE id = ${capped:-0}), ${capped:-0})" >/dev/null
r=$(ussd "$(t_sid)" "$C" "1*1*1*2*1*3*1*9 Cap St*2*1")
check_eq "an order to pay cash on delivery still counts towards the cap (it holds stock and never expires)" \
	"END You have too many unpaid orders. Pay or cancel one in My orders first." "$r"

# ---- the keys: VTY write-back
vty_open "$SPAZA_VTY_PORT"
vty "enable" >/dev/null
vty "configure terminal" >/dev/null
vty "spaza" >/dev/null
vty "order unpaid-expiry 48" >/dev/null
vty "order unpaid-max 3" >/dev/null
vty "end" >/dev/null
run=$(vty "show running-config")
vty "configure terminal" >/dev/null
vty "spaza" >/dev/null
vty "order unpaid-expiry 72" >/dev/null
vty "order unpaid-max 5" >/dev/null
vty "end" >/dev/null
vty_close
check_has "order unpaid-expiry is written back" " order unpaid-expiry 48" "$run"
check_has "order unpaid-max is written back" " order unpaid-max 3" "$run"

check_true "spazactl ledger check passes" "the ledger check failed" ctl ledger check
