# Abuse limits per phone number: hops per minute and sessions per hour are refused past the
# configured limit with a short END, counted in `show stats`, and other numbers are unaffected.
source "$(dirname "$0")/lib.sh"

own_up limits " limits hops-per-minute 5 sessions-per-hour 2" ||
	{ echo "own spazad did not start (log: $OWN_LOG)" >&2; exit 1; }
LIMITED="END Too many requests from your number. Please try again later."

P=$(t_phone 70)
S=$(t_sid)
for t in "" 1 1*1 1*1*1 1*1*1*0; do r=$(ussd "$S" "$P" "$t" "" "$OWN_URL"); done
check_match "five hops in a minute are served" '^CON ' "$r"
r=$(ussd "$S" "$P" "1*1*1*0*0" "" "$OWN_URL")
check_eq "the sixth hop in a minute is refused" "$LIMITED" "$r"
r=$(ussd "$(t_sid)" "$(t_phone 71)" "" "" "$OWN_URL")
check_match "another number is served meanwhile" '^CON Welcome to Spaza' "$r"

Q=$(t_phone 72)
ussd "$(t_sid)" "$Q" "" "" "$OWN_URL" >/dev/null
ussd "$(t_sid)" "$Q" "" "" "$OWN_URL" >/dev/null
r=$(ussd "$(t_sid)" "$Q" "" "" "$OWN_URL")
check_eq "the third session in an hour is refused" "$LIMITED" "$r"

out=$(vty_open "$OWN_VTY" && vty "show stats"; vty_close)
check_match "refused hops are counted in show stats" 'Hops refused: the phone number sent too many in a minute: +[1-9]' "$out"
check_match "refused sessions are counted in show stats" 'Sessions refused: the phone number started too many in an hour: +[1-9]' "$out"
own_down limits
