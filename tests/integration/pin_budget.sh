# A gateway-wide budget of failed voucher PINs: 200 wrong but check-valid PINs from 40 phone
# numbers at once (5 each, under the per-number lockout) all reached the vouchers before; now
# past the budget (20 a minute here) voucher entry pauses for everyone for the cool-down, with a
# clear screen, an alarm counter, an ERROR line in the log, and the failures counted per front
# end and per peer in `show stats`.
source "$(dirname "$0")/lib.sh"

BUDGET=20
own_up pin-budget " limits hops-per-minute 0 sessions-per-hour 0" \
	" limits pin-failures-per-minute $BUDGET pin-cooldown 120" ||
	{ echo "own spazad did not start (log: $OWN_LOG)" >&2; exit 1; }
pay() { # pay PHONE TEXT-AFTER-DIAL: a fresh session on the own daemon, prints the last reply
	local sid; sid=$(t_sid)
	ussd "$sid" "$1" "" "" "$OWN_URL" >/dev/null
	ussd "$sid" "$1" "$2" "" "$OWN_URL"
}

PHONES=() ORDERS=()
for i in $(seq 1 40); do
	p=$(t_phone 85)
	PHONES+=("$p")
	ORDERS+=("$(pay "$p" "1*2*1*1*1*1" | sed -n 's/^END Order #\([0-9]*\) placed.*/\1/p')")
done
check_eq "40 numbers each have an order to pay" 40 "$(printf '%s\n' "${ORDERS[@]}" | grep -cE '^[0-9]+$')"
SINCE=$(psql_val "SELECT now()")

# 200 wrong PINs, 5 a number, 40 at once (one from each number); tries already in flight when
# the budget runs out still finish, so at most one round passes it
for n in 1 2 3 4 5; do
	pids=()
	for i in $(seq 0 39); do
		pin=$(luhn_fix "9999$(printf '%02d' "$i")88$n$(printf '%06d' "$RANDOM")")
		pay "${PHONES[i]}" "3*${ORDERS[i]}*1*$pin" > "$T_TMP/r.$n.$i" &
		pids+=($!)
	done
	wait "${pids[@]}"	# not a bare wait: the own spazad runs in the background too
done
# a reply has no newline of its own
for f in "$T_TMP"/r.*; do cat "$f"; echo; done > "$T_TMP/replies"
invalid=$(grep -c '^CON Invalid voucher PIN' "$T_TMP/replies")
paused=$(grep -c '^END Voucher payments are paused for a few minutes. Please try again later.$' "$T_TMP/replies")
tried=$(psql_val "SELECT count(*) FROM voucher_failures WHERE at >= '$SINCE'")
check_true "past the budget of $BUDGET the PINs stop reaching the vouchers ($tried did, of 200)" \
	"$tried reached them" test "$tried" -le $((BUDGET + 40))
check_eq "every try was answered: invalid, or paused with a clear screen" 200 $((invalid + paused))
check_true "... the rest paused ($paused)" "only $paused" test "$paused" -ge $((200 - BUDGET - 40))

# the pause is for everyone: a customer with a good PIN waits too
"$SPAZACTL" -c "$OWN_CFG" vouchers issue --count 1 --value 100 --out "$T_TMP/pins" >/dev/null 2>&1
GOOD=$(grep -oE '[0-9]{16}' "$T_TMP/pins" | head -1)
GP=$(t_phone 86)
GO=$(pay "$GP" "1*2*1*1*1*1" | sed -n 's/^END Order #\([0-9]*\) placed.*/\1/p')
r=$(pay "$GP" "3*$GO*1*$GOOD")
check_eq "while paused, a good PIN from another number is refused with the same screen" \
	"END Voucher payments are paused for a few minutes. Please try again later." "$r"
check_eq "... and its order stays unpaid" awaiting_payment "$(psql_val "SELECT status FROM orders WHERE id = ${GO:-0}")"

out=$(vty_open "$OWN_VTY" && vty "show stats"; vty_close)
check_match "the alarm is counted once in show stats (pins:budget-alarms)" \
	'ALARM: failed voucher PINs of all numbers passed the budget a minute: voucher entry paused: +1 ' "$out"
check_match "failed PINs are counted for the front end (pins:failed-at)" \
	"Voucher PINs no voucher has, typed on /ussd/at \\(per peer: show stats\\): +$tried " "$out"
check_match "... and for the peer" "failed PINs from at 127\\.0\\.0\\.1: $tried" "$out"
check_match "show stats says voucher entry is paused" "voucher entry PAUSED for [0-9]+ s more" "$out"
# logged at ERROR (the test config prints no levels)
check_true "the log names the pause" "none in $OWN_LOG" \
	grep -qE "DSESS .*failed voucher PINs within a minute.*voucher entry paused for everyone for 120 s" "$OWN_LOG"
check_lacks "no PIN in the log" "$GOOD" "$(cat "$OWN_LOG")"
own_down pin-budget
