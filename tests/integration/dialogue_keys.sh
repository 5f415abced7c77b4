# Idempotency keys are unique per dialogue: a network that recycles a USSD session id for a
# later dialogue of the same customer must not give that dialogue the earlier, different order
# back (it answered "END Order #<earlier> placed" for an order never placed); with the
# dialogue id of our own in every key it orders anew, while it lingers and after. A key that
# finds another request's order is a conflict: a clear END, counted, never that order. After
# kill -9, a hop of a dialogue in flight still gets its committed order back, and a fresh
# dialogue on the same id orders anew.
source "$(dirname "$0")/lib.sh"

order_no() { sed -n 's/^END Order #\([0-9]*\) placed.*/\1/p' <<<"$1"; }

P=$(t_phone 82)
S=$(t_sid)
ussd "$S" "$P" "" >/dev/null
A=$(order_no "$(ussd "$S" "$P" "1*2*1*1*2*1")")
check_match "the first dialogue orders 2 x Coke" '^[0-9]+$' "$A"
# the same sessionId again, the same input position, another quantity, while the first lingers
ussd "$S" "$P" "" >/dev/null
r=$(ussd "$S" "$P" "1*2*1*1*1*1")
B=$(order_no "$r")
check_match "a recycled sessionId begins a new dialogue that places its own order" '^[0-9]+$' "$B"
check_true "... not the earlier one ($A)" "got $(oneline "$r")" test "${B:-0}" != "$A"
check_eq "... for 1 unit, as typed" 1 "$(psql_val "SELECT qty FROM orders WHERE id = ${B:-0}")"
check_eq "the sessionId's two dialogues have two dialogue ids" 2 \
	"$(psql_val "SELECT count(DISTINCT id) FROM ussd_dialogues WHERE session_ref = '$S'")"

# ---- a key that names another request's order: a conflict, never that order
CP=$(t_phone 83)
CS=$(t_sid)
ussd "$CS" "$CP" "" >/dev/null
ussd "$CS" "$CP" "1*2*1*1*2" >/dev/null
D=$(psql_val "SELECT DISTINCT id FROM ussd_dialogues WHERE session_ref = '$CS'")
check_match "the dialogue's id is stored with its first hop" '^[0-9a-f]{16}$' "$D"
OTHER=$(psql_val "INSERT INTO orders (customer_id, product_id, qty, unit_cents, total_cents, idem_key)
	SELECT c.id, p.id, 1, p.price_cents, p.price_cents, 'at:$CS:$D:6' FROM customers c, products p
	WHERE c.msisdn = '$(e164 "$CP")' AND p.active ORDER BY p.id LIMIT 1 RETURNING id")
vty_open "$SPAZA_VTY_PORT" || { echo "VTY on port $SPAZA_VTY_PORT not reachable" >&2; exit 1; }
WHAT="Orders and payments refused: the idempotency key names another request's"
before=$(stat_count "$WHAT" "$(vty "show stats")")
r=$(ussd "$CS" "$CP" "1*2*1*1*2*1")
check_eq "an order key naming another request's order ends on the conflict screen" \
	"END We could not match this to your session. Nothing was done. Please dial again." "$r"
check_eq "... counted in dialogues:key-conflicts" "$(( ${before:-0} + 1 ))" "$(stat_count "$WHAT" "$(vty "show stats")")"
vty_close
check_eq "... and no order was added or changed" "1|1 1" \
	"$(psql_val "SELECT count(*), min(qty) FROM orders WHERE idem_key LIKE 'at:$CS:%' AND id = ${OTHER:-0}") $(psql_val "SELECT count(*) FROM orders WHERE idem_key LIKE 'at:$CS:%'")"
psql_val "DELETE FROM orders WHERE id = ${OTHER:-0}" >/dev/null

# ---- kill -9: the dialogue in flight finds its order again, a fresh one on the same id does not
own_up dialogue-keys || { echo "own spazad did not start (log: $OWN_LOG)" >&2; exit 1; }
KP=$(t_phone 84)
KS=$(t_sid)
ussd "$KS" "$KP" "" "" "$OWN_URL" >/dev/null
X=$(order_no "$(ussd "$KS" "$KP" "1*2*1*1*2*1" "" "$OWN_URL")")
check_match "an order on the own daemon" '^[0-9]+$' "$X"
kill -9 "$OWN_PID"
wait "$OWN_PID" 2>/dev/null
own_up dialogue-keys-2 || { echo "own spazad did not start again (log: $OWN_LOG)" >&2; exit 1; }
r=$(ussd "$KS" "$KP" "1*2*1*1*2*1" "" "$OWN_URL")
check_eq "after kill -9 the dialogue's hop replayed gets its committed order back" \
	"END Order #${X:-?} placed. Pay via option 3." "$r"
ussd "$KS" "$KP" "" "" "$OWN_URL" >/dev/null
Y=$(order_no "$(ussd "$KS" "$KP" "1*2*1*1*2*1" "" "$OWN_URL")")
check_match "a fresh dialogue on the same sessionId after the restart orders anew" '^[0-9]+$' "$Y"
check_true "... a new order, not #$X" "got #$Y" test "${Y:-0}" != "${X:-0}"
check_eq "the sessionId has those two orders" 2 "$(psql_val "SELECT count(*) FROM orders WHERE idem_key LIKE 'at:$KS:%'")"
own_down dialogue-keys
