# A session is its phone's: a hop with a live session's id from another phone number is refused
# with a short END and runs nothing for the session's customer (it used to run as the victim:
# the aggregator's sessionId alone found the session), it is counted in sessions:wrong-phone,
# and the session's own phone goes on undisturbed.
source "$(dirname "$0")/lib.sh"

VICTIM=$(t_phone 80)
OTHER=$(t_phone 81)
S=$(t_sid)
ussd "$S" "$VICTIM" "" >/dev/null
r=$(ussd "$S" "$VICTIM" "1*2*1*1*2")
check_eq "the victim reaches the order confirmation" $'CON Order 2 x Coke 2L for R55.98?\n1. Confirm\n2. Cancel' "$r"

vty_open "$SPAZA_VTY_PORT" || { echo "VTY on port $SPAZA_VTY_PORT not reachable" >&2; exit 1; }
WHAT="Hops refused: the phone number is not the one its session began with"
before=$(stat_count "$WHAT" "$(vty "show stats")")

r=$(ussd "$S" "$OTHER" "1*2*1*1*2*1")
check_eq "a hop with the victim's sessionId from another phone is refused" \
	"END This session belongs to another phone. Please dial again." "$r"
check_eq "... and placed no order" 0 "$(psql_val "SELECT count(*) FROM orders WHERE idem_key LIKE 'at:$S:%'")"
r=$(ussd "$S" "$OTHER" "")
check_eq "... nor can the other phone begin the victim's session anew" \
	"END This session belongs to another phone. Please dial again." "$r"
after=$(stat_count "$WHAT" "$(vty "show stats")")
check_eq "both are counted in show stats (sessions:wrong-phone)" "$(( ${before:-0} + 2 ))" "${after:-none}"
vty_close

r=$(ussd "$S" "$VICTIM" "1*2*1*1*2*1")
check_match "the victim's own hop goes on and orders" '^END Order #[0-9]+ placed\. Pay via option 3\.$' "$r"
check_eq "... one order, the victim's" "$(e164 "$VICTIM")" \
	"$(psql_val "SELECT c.msisdn FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.idem_key LIKE 'at:$S:%'")"
check_eq "the other phone has no customer record from the refused hops" 0 \
	"$(psql_val "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.msisdn = '$(e164 "$OTHER")'")"
