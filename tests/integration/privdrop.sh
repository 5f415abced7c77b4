#!/usr/bin/env bash
# The daemon's own privileges (src/base/privdrop.c, doc/security.md): started as root, spazad
# binds its listeners and then runs as its run-as user, can no longer dump core, and has raised
# its open-files limit to the hard limit; with no user to become it refuses to start. The
# packaged systemd unit passes systemd-analyze verify.
source "$(dirname "$0")/lib.sh"
T=privdrop

# ---- the systemd unit: checked as shipped, but for ExecStart naming the binary just built
# (verify insists that it exists)
UNIT=$SPAZA_TOP/contrib/systemd/spazad.service
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$T_TMP/unit"
	sed "s|/usr/bin/spazad|$SPAZAD|g" "$UNIT" > "$T_TMP/unit/spazad.service"
	rc=0
	out=$(systemd-analyze verify --man=no "$T_TMP/unit/spazad.service" 2>&1) || rc=$?
	check_eq "$T: systemd-analyze verify passes the unit, with no warning" "0|" "$rc|$out"
else
	echo "SKIP: $T: systemd-analyze is not installed: the unit is not verified"
fi
unit_has() { grep -qxF "$1" "$UNIT"; }
for k in NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes User=spaza LimitNOFILE=65536 LimitCORE=0 \
	ReadWritePaths=/var/log/spaza CapabilityBoundingSet=; do
	check_true "$T: the unit sets $k" "no line $k in $UNIT" unit_has "$k"
done

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: $T: not root: the drop from root is not tested"
	exit 0
fi

# ---- started as root, with a soft limit on open files below the hard one
HARD=$(ulimit -Hn)
ulimit -Sn 256
own_up privdrop || { echo "own spazad did not start (log: $OWN_LOG)" >&2; exit 1; }
UID_SPAZA=$(id -u spaza)
check_eq "$T: spazad runs as the user spaza (real, effective, saved and file-system uid)" \
	"$UID_SPAZA $UID_SPAZA $UID_SPAZA $UID_SPAZA" "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$OWN_PID/status")"
check_eq "$T: ... and its group" "$(id -g spaza)" "$(awk '/^Gid:/ { print $3 }' "/proc/$OWN_PID/status")"
check_eq "$T: ... with no capabilities left" "0000000000000000" "$(awk '/^CapEff:/ { print $2 }' "/proc/$OWN_PID/status")"
# /proc/PID of a process that is not dumpable belongs to root, whatever the process's uid (proc(5))
check_eq "$T: spazad is not dumpable (its /proc entries belong to root)" "0" "$(stat -c %u "/proc/$OWN_PID/status")"
check_match "$T: spazad's core file size limit is 0" '^Max core file size +0 +0 ' \
	"$(grep '^Max core file size' "/proc/$OWN_PID/limits")"
check_eq "$T: spazad raised its open files limit to the hard limit ($HARD; started with 256)" "$HARD $HARD" \
	"$(awk '/^Max open files/ { print $4, $5 }' "/proc/$OWN_PID/limits")"
check_has "$T: the log gives the figure" "open files limit $HARD (was 256)" "$(cat "$OWN_LOG")"
check_has "$T: the log says whom it runs as" "running as user spaza (uid $UID_SPAZA" "$(cat "$OWN_LOG")"
check_match "$T: after the drop it still answers a dial" '^CON ' "$(ussd "$(t_sid)" "$(t_phone 72)" "" "" "$OWN_URL")"
own_down "$T"

# ---- no user to become: refused before anything is bound
start_refused() { # start_refused WHAT RUN-AS ERE
	local out rc=0
	own_cfg "$T_TMP/bad.cfg" "$(free_port)" "$(free_port)" " run-as $2"
	out=$(timeout 60 "$SPAZAD" -c "$T_TMP/bad.cfg" 2>&1) || rc=$?
	if [ "$rc" = 1 ] && [[ "$out" =~ $3 ]]; then
		pass "$T: started as root, spazad refuses $1"
	else
		fail "$T: started as root, spazad refuses $1: expected exit 1 and /$3/, got exit $rc, <$(oneline "$out")>"
	fi
}
start_refused "a user that does not exist" spaza-no-such-user 'started as root, and there is no user "spaza-no-such-user" to run as'
start_refused "to run as root" root 'run-as root is root: name an unprivileged user'
