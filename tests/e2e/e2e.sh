#!/usr/bin/env bash
# e2e.sh check|demo BUILD_DIR: ckrun's Linux-guest end-to-end stage.
#
#   check  builds the payload (mkpayload.sh) and runs its `run` (tests/e2e/run,
#          TAP): directly where the machine has hardware KVM (kvm_intel or
#          kvm_amd), else inside the nested test host (testhost.sh).  Fails on
#          any "not ok", a missing or short plan, or a timeout.
#   demo   boots one friendly VM on BUILD_DIR/rootfs and shows its output;
#          exits with the VM's status.
#
# Environment: E2E_HOST=direct|testhost forces the mode; E2E_TIMEOUT (s, 2400)
# bounds the whole test host; E2E_VM_TIMEOUT (s, 60) each VM; E2E_ONLY (an
# extended regular expression) runs only the cases whose description matches.
set -euo pipefail
mode=${1:?usage: e2e.sh check|demo BUILD_DIR}
b=${2:?usage: e2e.sh check|demo BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)

demo_opts=(-c 2 -m 256)
demo_cmd='echo Hello from a ckrun microVM: $(uname -sr), vCPUs: $(nproc), RAM: $(free -m | awk '\''/^Mem:/ { print $2 }'\'') MiB; cat /etc/motd'

hardware_kvm() {
	[ -c /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }
}
where=${E2E_HOST:-}
if [ -z "$where" ]; then
	if hardware_kvm; then where=direct; else where=testhost; fi
fi
export TESTHOST_TIMEOUT=${E2E_TIMEOUT:-2400}

# check_tap LOG: the plan is there, every planned test reported, none failed.
check_tap() {
	local plan okc notok
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$1" | tail -n 1)
	okc=$(grep -c '^ok [0-9]' "$1" || true)
	notok=$(grep -c '^not ok [0-9]' "$1" || true)
	echo "e2e: $okc passed, $notok failed (plan ${plan:-missing}; $where)"
	[ -n "$plan" ] && [ "$notok" -eq 0 ] && [ "$okc" -eq "$plan" ]
}

case $mode in
check)
	payload=$b/e2e/payload log=$b/e2e/check.log
	"$here/mkpayload.sh" "$b" "$payload" e2e
	echo "e2e: running the cases ($where)"
	rc=0
	if [ "$where" = direct ]; then
		timeout -k 10 "$TESTHOST_TIMEOUT" "$payload/run" </dev/null 2>&1 | tee "$log" || rc=$?
	else
		WORK=$b/e2e/testhost "$here/testhost.sh" "$payload" | tee "$log" || rc=$?
	fi
	check_tap "$log" && [ "$rc" -eq 0 ]
	;;
demo)
	if [ "$where" = direct ]; then
		exec "$b/ckrun" "${demo_opts[@]}" "$b/rootfs" -- /bin/sh -c "$demo_cmd"
	fi
	payload=$b/e2e/demo-payload
	"$here/mkpayload.sh" "$b" "$payload" demo
	echo "${demo_opts[*]}" >"$payload/demo.opts"
	printf '%s\n' "$demo_cmd" >"$payload/demo.cmd"
	echo "demo: no hardware KVM here; booting the VM inside the nested test host (QEMU TCG)" >&2
	export WORK=$b/e2e/demo-testhost TESTHOST_MODE=demo
	exec "$here/testhost.sh" "$payload"
	;;
*)
	echo "usage: e2e.sh check|demo BUILD_DIR" >&2
	exit 2
	;;
esac
