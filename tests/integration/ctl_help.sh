# spazactl's help and its way into the VTY: `spazactl X --help` and `spazactl X Y --help` print
# that command's usage and exit 0 for every command `spazactl --help` lists (asking for help
# needs no config and no database); `spazactl vty CMD...` runs VTY commands on the running
# spazad and prints their output, and sends the secrets file's vty-token when the VTY asks.
source "$(dirname "$0")/lib.sh"
T=ctl_help

# every command's words: the synopsis column of `spazactl --help`, up to its arguments
all=$("$SPAZACTL" --help)
check_match "$T: spazactl --help lists the commands" 'commands' "$all"
cmds=$(awk '/^commands/ { f = 1; next } f && /^$/ { exit }
	f && /^  [a-z]/ { n = split(substr($0, 3, 28), a, " "); w = a[1]; if (n > 1 && a[2] ~ /^[a-z][a-z-]*$/) w = w " " a[2]; print w }' <<<"$all")
check_match "$T: ... slip print among them" '(^|'$'\n'')slip print('$'\n''|$)' "$cmds"
n=0
while read -r -a words; do
	[ ${#words[@]} -gt 0 ] || continue
	n=$((n + 1))
	rc=0
	out=$(cd "$T_TMP" && "$SPAZACTL" "${words[@]}" --help 2>&1) || rc=$?
	check_eq "$T: spazactl ${words[*]} --help exits 0 (even with no config here)" 0 "$rc"
	check_match "$T: spazactl ${words[*]} --help prints its usage" "^usage: spazactl \[-c FILE\] ${words[*]}( |"$'\n'")" "$out"
	if [ ${#words[@]} -eq 2 ]; then
		rc=0
		out=$(cd "$T_TMP" && "$SPAZACTL" "${words[0]}" --help 2>&1) || rc=$?
		check_eq "$T: spazactl ${words[0]} --help exits 0" 0 "$rc"
		check_has "$T: spazactl ${words[0]} --help names ${words[*]}" "usage: spazactl [-c FILE] ${words[*]}" "$out"
	fi
done <<<"$cmds"
check_true "$T: at least 19 commands checked" "only $n" test "$n" -ge 19
out=$("$SPAZACTL" slip print 9 --help 2>&1)
check_has "$T: --help after an argument is help too" "usage: spazactl [-c FILE] slip print REF" "$out"

# ---- spazactl vty against the suite's spazad (its VTY on loopback, no token)
rc=0
out=$("$SPAZACTL" -c "$SPAZA_CFG" vty 'show stats' 2>&1) || rc=$?
check_eq "$T: spazactl vty 'show stats' exits 0" 0 "$rc"
check_has "$T: ... and prints the counters" "USSD hops received" "$out"
check_lacks "$T: ... without the prompt" "spazad>" "$out"
check_lacks "$T: ... without telnet negotiation bytes" $'\xff' "$out"
out=$(printf 'show stats\nshow sessions\n' | "$SPAZACTL" -c "$SPAZA_CFG" vty 2>&1)
check_match "$T: spazactl vty reads commands from stdin when it is no terminal" "USSD hops received.*sessions" "$out"

# ---- an own spazad whose VTY listens off loopback behind a vty-token
TOKEN=it-ctl-vty-token-$RANDOM$RANDOM
HTTP=$(free_port) VTYP=$(free_port)
own_cfg "$T_TMP/own.cfg" "$HTTP" "$VTYP"
sed -i 's/^ bind 127\.0\.0\.1 / bind 0.0.0.0 /' "$T_TMP/own.cfg"
spaza_secret_set "$T_TMP/secrets" vty-token "$TOKEN"
OWN_PIDF=$T_TMP/own.pid OWN_LOG=$(dirname "${SPAZA_CFG:-$T_TMP/x}")/it-$T.log
"$SPAZAD" -c "$T_TMP/own.cfg" >"$OWN_LOG" 2>&1 &
echo $! > "$OWN_PIDF"
at_exit "spazad_down '$OWN_PIDF'"
if wait_for 30 curl -sf --noproxy '*' -o /dev/null "http://127.0.0.1:$HTTP/health"; then
	rc=0
	out=$("$SPAZACTL" -c "$T_TMP/own.cfg" vty 'show stats' 2>&1) || rc=$?
	check_eq "$T: spazactl vty with a vty-token exits 0" 0 "$rc"
	check_has "$T: ... the token opened the VTY" "USSD hops received" "$out"
	check_lacks "$T: ... and the token is not printed" "$TOKEN" "$out"
	spaza_secret_set "$T_TMP/secrets" vty-token "wrong-$TOKEN"
	rc=0
	out=$("$SPAZACTL" -c "$T_TMP/own.cfg" vty 'show stats' 2>&1) || rc=$?
	check_eq "$T: spazactl vty with a wrong vty-token exits 1" 1 "$rc"
	check_has "$T: ... saying the token is not spazad's" "vty-token" "$out"
else
	fail "$T: own spazad with a vty-token starts (log: $OWN_LOG)"
fi
