# The VTY (telnet on loopback): counters that move with the hops, menu reload; `write file`
# writing a change back (an own spazad); and reloading menus on SIGHUP (an own spazad on a copy
# of the menus): new sessions get the new texts, sessions already running keep the ones they
# started with. What the VTY's commands print is proved by the transcripts in tests/vty/.
source "$(dirname "$0")/lib.sh"

P=$(t_phone 13)
# counter NAME DESCRIPTION STATS: the value of one counter in `show stats` output
counter() { grep -E "^ *($1|$2):" <<<"$3" | head -1 | sed -E 's/^[^:]*:[[:space:]]*([0-9]+).*/\1/'; }

vty_open "$SPAZA_VTY_PORT" || { echo "VTY on port $SPAZA_VTY_PORT not reachable" >&2; exit 1; }
check_match "the VTY greets with a prompt" '(^|\n)[^\n]*spazad> $' "$VTY_OUT"

r=$(ussd "$(t_sid)" "$P" "4*2")
check_eq "the customer switches to isiZulu" "END Ulimi manje ngu-isiZulu." "$r"

st0=$(vty "show stats")
hops0=$(counter 'at:hops' 'USSD hops received on /ussd/at' "$st0")
done0=$(counter 'sessions:completed' 'Sessions that reached a final screen' "$st0")
check_match "show stats shows the hop counter" '^[0-9]+$' "$hops0"
check_match "show stats shows the completed-sessions counter" '^[0-9]+$' "$done0"

# a live session, left on the categories screen
S1=$(t_sid)
ussd "$S1" "$P" "" >/dev/null
r=$(ussd "$S1" "$P" "1")
check_match "the live session is on the categories (in isiZulu)" '^CON Izigaba' "$r"

# one completed session of one hop, and the live one goes on (2 more hops)
r=$(ussd "$(t_sid)" "$P" "5*3")
check_eq "help in isiZulu ends the session" "END Usizo lwe-Spaza: shayela 0800 555 123 (mahhala) noma u-SMS HELP ku-31555." "$r"
st1=$(vty "show stats")
check_eq "show stats: at:hops moved by the 3 hops sent" "$((hops0 + 3))" "$(counter 'at:hops' 'USSD hops received on /ussd/at' "$st1")"
check_eq "show stats: sessions:completed moved by the 1 session completed" "$((done0 + 1))" \
	"$(counter 'sessions:completed' 'Sessions that reached a final screen' "$st1")"
check_match "show stats says the database is up" 'database up' "$st1"

vty "enable" >/dev/null
out=$(vty "menu reload")
check_eq "menu reload in enable mode answers" "menus reloaded" "$out"
vty_close
r=$(ussd "$S1" "$P" "1*3")
check_match "the live session goes on after menu reload" '^CON Household \(1/2\)' "$r"
r=$(ussd "$(t_sid)" "$P" "")
check_match "a new session after menu reload gets the menu, still in isiZulu" '^CON Siyakwamukela ku-Spaza' "$r"

# ---- SIGHUP: an own daemon on a copy of the menus
M=$T_TMP/menus
cp -r "$SPAZA_TOP/menus" "$M"
own_up hup " menus $M" || { echo "own spazad did not start (log: $OWN_LOG)" >&2; exit 1; }

# ---- write file: a change made over the VTY is in the file, which reads back as it was
vty_open "$OWN_VTY" && vty "enable" >/dev/null && vty "configure terminal" >/dev/null && vty "spaza" >/dev/null
vty "session idle-timeout 45" >/dev/null
out=$(vty "write file")
vty_close
check_has "write file says where it wrote" "$OWN_CFG" "$out"
check_eq "write file wrote the changed key back, once" " session idle-timeout 45" "$(grep '^ session idle-timeout' "$OWN_CFG")"
r=$("$SPAZAD" -C -c "$OWN_CFG" 2>&1)
check_match "the file write file wrote passes spazad -C" '^configuration OK' "$r"
ctl_main() { ussd "$(t_sid)" "$(t_phone 13)" "" "" "$OWN_URL" | head -1; }
r=$(ussd "$(t_sid)" "$P" "" "" "$OWN_URL")
check_match "the language is kept on the customer's record: another daemon greets them in isiZulu" \
	'^CON Siyakwamukela ku-Spaza'$'\n' "$r"
OLD=$(t_sid) PO=$(t_phone 13)
r=$(ussd "$OLD" "$PO" "" "" "$OWN_URL")
check_match "before the change the own daemon shows the old text" '^CON Welcome to Spaza'$'\n' "$r"

sed -i 's|text: { en: Welcome to Spaza, |text: { en: Welcome to Spaza Market, |; s|text: { en: Categories, |text: { en: Aisles, |' "$M/shop.yaml"
check_true "test set-up: the texts were changed in the copy" "no change in $M/shop.yaml" \
	grep -q 'Welcome to Spaza Market' "$M/shop.yaml"
kill -HUP "$OWN_PID"
main_is() { [ "$(ctl_main)" = "$1" ]; }
if wait_for 10 main_is "CON Welcome to Spaza Market"; then
	pass "after SIGHUP a new session shows the new text"
else
	fail "after SIGHUP a new session shows the new text: expected <CON Welcome to Spaza Market> within 10 s, got <$(ctl_main)>"
fi
check_true "the own daemon is still running after SIGHUP" "process $OWN_PID is gone" kill -0 "$OWN_PID"
r=$(ussd "$OLD" "$PO" "1" "" "$OWN_URL")
check_match "a session started before the reload keeps the old texts" '^CON Categories'$'\n''1\. Groceries' "$r"
NEW=$(t_sid) PN=$(t_phone 13)
ussd "$NEW" "$PN" "" "" "$OWN_URL" >/dev/null
r=$(ussd "$NEW" "$PN" "1" "" "$OWN_URL")
check_match "a session started after the reload has the new texts throughout" '^CON Aisles'$'\n''1\. Groceries' "$r"
r=$(ussd "$OLD" "$PO" "1*2*1*1*1*1" "" "$OWN_URL")
check_match "the old session still completes an order" '^END Order #[0-9]+ placed\.' "$r"

# a broken copy on SIGHUP: refused, the daemon goes on with the menus it has
sed -i 's|en: "Order {qty} x {product} for {total}?"|en: "Order {qty} x {prodct} for {total}?"|' "$M/shop.yaml"
kill -HUP "$OWN_PID"
if wait_for 10 grep -q 'not reloaded' "$OWN_LOG"; then
	pass "SIGHUP with a broken menu says in the log that the menus were not reloaded"
else
	fail "SIGHUP with a broken menu says in the log that the menus were not reloaded: expected \"not reloaded\" in $OWN_LOG within 10 s, got none"
fi
check_has "the log names the broken file and line" "$M/shop.yaml:" "$(cat "$OWN_LOG")"
check_true "the own daemon is still running after a refused reload" "process $OWN_PID is gone" kill -0 "$OWN_PID"
r=$(ussd "$(t_sid)" "$(t_phone 13)" "1*1*1*1*2" "" "$OWN_URL")
check_eq "after a refused reload new sessions get the last good menus" \
	"CON Order 2 x White bread 700g for R35.98?"$'\n'"1. Confirm"$'\n'"2. Cancel" "$r"
vty_open "$OWN_VTY" && vty "enable" >/dev/null
out=$(vty "menu reload")
vty_close
check_has "menu reload over the VTY with a broken menu says it did not reload" "not reloaded" "$out"
own_down "vty"
