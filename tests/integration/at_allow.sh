# /ussd/at can be restricted to the aggregator's addresses, /kannel/* to the smsbox hosts:
# others get 403 and reach no session, no SMS, no delivery report.
source "$(dirname "$0")/lib.sh"

own_up allow_other " ussd-at allow 10.20.0.0/16" " kannel allow 10.30.0.0/16" || { echo "own spazad did not start (log: $OWN_LOG)" >&2; exit 1; }
code=$(curl -s -o "$T_TMP/body" -w '%{http_code}' --noproxy '*' -d 'sessionId=a1&serviceCode=*120*777%23&phoneNumber=0821234567&text=' "$OWN_URL/ussd/at")
check_eq "a caller outside the allowed networks gets 403" "403|this address may not call /ussd/at" "$code|$(cat "$T_TMP/body")"
check_eq "no session was started for it" "0" "$(vty_open "$OWN_VTY" && vty 'show sessions' | grep -c '^a1 '; vty_close)"
code=$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' "$OWN_URL/kannel/mo?from=0821234567&to=31555&text=HELP&id=k1")
check_eq "an MO from outside the smsbox networks gets 403" "403" "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' "$OWN_URL/kannel/dlr?id=1&type=1")
check_eq "a delivery report from outside the smsbox networks gets 403" "403" "$code"
own_down allow_other

own_up allow_lo " ussd-at allow 10.20.0.0/16" " ussd-at allow 127.0.0.0/8" ||
	{ echo "own spazad did not start (log: $OWN_LOG)" >&2; exit 1; }
r=$(ussd "$(t_sid)" "$(t_phone 73)" "" "" "$OWN_URL")
check_match "a caller inside an allowed network is served" '^CON Welcome to Spaza' "$r"
out=$("$SPAZAD" -C -c "$OWN_CFG" 2>&1)
check_match "the allowed networks are accepted by the config check" '^configuration OK' "$out"
own_down allow_lo
