#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Networking (Mode=none, bridge, network), never on the host's network: the
# file's daemon runs in a network namespace this file makes (a "holder"
# process under unshare -n; sandboxd joins it with nsenter), and everything
# the tests make there (bridges, a "LAN host" namespace, addresses, nft
# tables) goes when the holder is killed, whatever else fails. Checked: two
# containers on a virtual network reach each other and the gateway; Mode=none
# reaches nothing; Mode=bridge on a test bridge gets its address and reaches a
# peer namespace there; NAT to a LAN host, which sees the masqueraded address;
# nothing left (veth, lease, bridge, nft table) after 100 runs, kill -9 of a
# controller, or a daemon crash (at its next start).

# Sandboxed scripts are single-quoted on purpose; bats' run sets $stderr.
# shellcheck disable=SC2016,SC2154

load lib

# A process in a new, empty network namespace: the namespace lives as long as it.
netns_proc() {
        unshare -n sleep 100000 </dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
        echo $!
}

# Runs a command in the daemon's network namespace.
dns() { nsenter -t "$NET_HOLDER" -n "$@"; }
# And in the LAN host's.
lan() { nsenter -t "$NET_LAN" -n "$@"; }

setup_file() {
        export NET_HOLDER NET_LAN NET_DIR
        NET_HOLDER=$(netns_proc)
        NET_LAN=$(netns_proc)
        NET_DIR=$(mktemp -d /tmp/sbx-networks.XXXXXX)
        chmod 0755 "$NET_DIR"
        printf '%s\n' "$NET_HOLDER" "$NET_LAN" >"$NET_DIR/holders"
        # Wait until both are in their namespaces.
        sbx_poll 5 test "$(readlink /proc/"$NET_HOLDER"/ns/net)" != "$(readlink /proc/self/ns/net)"
        sbx_poll 5 test "$(readlink /proc/"$NET_LAN"/ns/net)" != "$(readlink /proc/self/ns/net)"
        export SBX_DAEMON_WRAPPER="nsenter -t $NET_HOLDER -n"
        export SBX_DAEMON_ARGS="--network-dir $NET_DIR"
        sbx_setup_file
        [[ -z ${SBX_SKIP_REASON:-} ]] || return 0
        if ! command -v nft >/dev/null; then
                export SBX_SKIP_REASON="nft is not installed (make deps installs nftables)"
                return 0
        fi
        install -m 0755 "$BATS_TEST_DIRNAME/net-probe.py" "$SBX_T/net-probe"

        dns ip link set lo up
        # The "LAN": lan0 here, eth0 in the LAN host's namespace (192.168.77.2),
        # which has no route back to the containers' subnets: only masqueraded
        # traffic can be answered.
        dns ip link add name lan0 type veth peer name eth0 netns "$NET_LAN"
        dns ip addr add 192.168.77.1/24 dev lan0
        dns ip link set lan0 up
        lan ip link set lo up
        lan ip addr add 192.168.77.2/24 dev eth0
        lan ip link set eth0 up
        # A bridge of the admin's (Mode=bridge), with a peer namespace on it.
        dns ip link add name brtest type bridge
        dns ip addr add 10.9.0.1/24 dev brtest
        dns ip link set brtest up
        dns ip link add name brpeer type veth peer name eth1 netns "$NET_LAN"
        dns ip link set brpeer master brtest up
        lan ip addr add 10.9.0.50/24 dev eth1
        lan ip addr add fd00:9::50/64 dev eth1 nodad
        lan ip link set eth1 up

        net_file lab 'Bridge = sbxlab' 'Address = 10.213.7.1/24' 'NAT = yes' 'OutboundInterface = lan0'
        net_file tiny 'Bridge = sbxtiny' 'Address = 10.213.8.1/30'
        # Its outbound interface does not exist: creation fails after the bridge.
        net_file broken 'Bridge = sbxbroken' 'Address = 10.213.9.1/24' 'NAT = yes' 'OutboundInterface = nosuch0'
        net_policy brokenpol 'Mode = network' 'Network = broken'
        net_policy netpol 'Mode = network' 'Network = lab'
        net_policy tinypol 'Mode = network' 'Network = tiny'
        net_policy ratepol 'Mode = network' 'Network = lab' 'IngressRate = 8M' 'EgressRate = 4M'
        net_policy nonepol 'Mode = none'
        net_policy brpool 'Mode = bridge' 'Bridge = brtest' 'AddressPool = 10.9.0.0/24' 'Gateway = 10.9.0.1'
        net_policy brstatic 'Mode = bridge' 'Bridge = brtest' 'Address = 10.9.0.77/24'
        net_policy brstatic6 'Mode = bridge' 'Bridge = brtest' 'Address = fd00:9::77/64' 'Gateway = fd00:9::50'
        net_policy brmissing 'Mode = bridge' 'Bridge = nosuchbr' 'Address = 10.9.0.78/24'
        net_policy brnotbridge 'Mode = bridge' 'Bridge = lan0' 'Address = 10.9.0.78/24'
        # A pool in the upper half of the bridge's /24, its gateway outside the pool's /25.
        net_policy brhalf 'Mode = bridge' 'Bridge = brtest' 'AddressPool = 10.9.0.128/25' 'Gateway = 10.9.0.1'
        net_policy nonet 'Mode = network' 'Network = nosuchnet'
        # Only the second user may use this one: the first can't reach its bridge.
        net_policy u2only 'Mode = bridge' 'Bridge = brtest' 'Address = 10.9.0.79/24'
        sed -i "s/^Users = \\*/Users = $SBX_U2/" "$SBX_T/policies/u2only.ini"
}

teardown_file() {
        local pid rc=0
        # The namespaces go whatever sbx_teardown_file says: with their
        # holders, everything made in them (bridges, veths, nft tables).
        sbx_teardown_file || rc=$?
        for pid in ${NET_HOLDER:-} ${NET_LAN:-}; do
                kill -KILL "$pid" 2>/dev/null || true
        done
        if [[ -n ${NET_DIR:-} && -d $NET_DIR ]]; then
                rm -rf --one-file-system "$NET_DIR"
        fi
        return "$rc"
}

setup() { sbx_setup; }
teardown() {
        local errors=0 pid
        # The extra daemons of the crash and restart tests, even if they failed.
        if [[ -f $SBX_T/extra-daemons ]]; then
                while read -r pid; do
                        kill -TERM "$pid" 2>/dev/null || continue
                        sbx_wait_pid "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
                done <"$SBX_T/extra-daemons"
                rm -f "$SBX_T/extra-daemons"
        fi
        # Nothing of any container may be left in the daemon's namespace.
        if ! sbx_poll 10 net_clean; then
                echo "network leftovers:"
                net_describe
                errors=1
        fi
        sbx_teardown || errors=1
        return "$errors"
}

# net_file NAME LINE...: NET_DIR/NAME.ini
net_file() {
        local name=$1
        shift
        { printf '[Network]\n'; printf '%s\n' "$@"; } >"$NET_DIR/$name.ini"
        chmod 0644 "$NET_DIR/$name.ini"
}

# net_policy NAME [Network] LINE...: the default policy with that [Network].
net_policy() {
        local name=$1
        shift
        {
                printf '[Sandbox]\nNamespaces = mount ipc uts pid net\n\n[Access]\nUsers = *\n\n'
                printf '[Files]\nPrivateTmp = no\nReadOnlyPaths = /\nTemporaryFileSystem = /run:mode=0755\n\n'
                printf '[Network]\n'
                printf '%s\n' "$@"
                printf '\n[Security]\nSystemCallFilter = ~@default\n'
        } | sbx_write_policy "$name"
}

net_veths() { dns ip -o link show | awk -F': ' '{ print $2 }' | grep '^vsbx' || true; }
net_tables() { dns nft list tables 2>/dev/null | grep lxsandbox || true; }
net_leases() { find "$SBX_T/run/net" -mindepth 1 2>/dev/null || true; }
net_bridges() { dns ip -o link show type bridge | awk -F': ' '{ print $2 }' | grep -v '^brtest$' || true; }
net_clean() {
        [[ -z $(net_veths) && -z $(net_tables) && -z $(net_leases) && -z $(net_bridges) ]]
}
net_describe() {
        echo "veths: $(net_veths | tr '\n' ' ')"
        echo "nft tables: $(net_tables | tr '\n' ' ')"
        echo "run/net: $(net_leases | tr '\n' ' ')"
        echo "bridges: $(net_bridges | tr '\n' ' ')"
}

# The address leased to container NAME on network NET.
net_lease_of() {
        grep -lx "$2" "$SBX_T/run/net/network-$1"/* 2>/dev/null | head -1 | xargs -r basename
}

probe() { printf '%s' "$SBX_T/net-probe"; }
run3_has_lease() { [[ -n $(find "$SBX_T/run3/net" -name '10.213.7.*' 2>/dev/null) ]]; }
# N files PREFIX.*.out that are not empty.
outs_ready() { local n=0 f; for f in "$2".*.out; do [[ -s $f ]] && n=$((n + 1)); done; ((n >= $1)); }
container_gone() { ! sbx_ctl1 info "$1" >/dev/null 2>&1; }
run2_net_empty() { [[ -z $(find "$SBX_T/run2/net" -mindepth 1 2>/dev/null) ]]; }

@test "Mode=none: only lo, and nothing is reachable" {
        run sbx_run1 nonepol -- sh -c 'ls /sys/class/net; '"$(probe)"' ping 192.168.77.1; echo ping=$?; '"$(probe)"' connect 192.168.77.2 9 ; echo connect=$?'
        sbx_assert_status 0
        sbx_assert_match output "$output" 'lo'
        sbx_assert_no_match output "$output" 'eth0'
        sbx_assert_match output "$output" 'ping=[12]'
        sbx_assert_match output "$output" 'connect=1'
        sbx_assert_match output "$output" 'Network is unreachable'
}

@test "Mode=network: two containers on one virtual network reach each other and the gateway" {
        local tok a_ip
        tok=$(sbx_token)
        sbx_bg "$SBX_U1" "$SBX_T/a-$tok" "$SBX_RUN" --name "a-$tok" netpol -- sleep "601.$tok"
        local client=$SBX_BG_PID
        sbx_poll 10 sbx_is_running sleep "601.$tok" || sbx_fail "A did not start" "$(cat "$SBX_T/a-$tok.err")"
        a_ip=$(net_lease_of lab "a-$tok")
        [[ $a_ip == 10.213.7.* ]] || sbx_fail "no lease for A: $(net_leases)"
        # The bridge, its address, the NAT table: made on first use.
        run dns ip -o addr show dev sbxlab
        sbx_assert_match output "$output" '10\.213\.7\.1/24'
        [[ -n $(net_tables) ]] || sbx_fail "no nft table while the network is in use"
        run sbx_run1 netpol -- sh -c 'cat /sys/class/net/eth0/operstate; '"$(probe)"' ping 10.213.7.1 && echo gw-ok; '"$(probe)"' ping '"$a_ip"' && echo peer-ok'
        sbx_assert_status 0
        sbx_assert_match output "$output" 'up'
        sbx_assert_match output "$output" 'gw-ok'
        sbx_assert_match output "$output" 'peer-ok'
        run sbx_ctl1 stop "a-$tok"
        sbx_assert_status 0
        sbx_wait_pid "$client" 15 || sbx_fail "A did not stop"
        # The last user gone: bridge, table and leases too (teardown checks).
}

@test "Mode=network: the address, the MAC derived from the name, the default route" {
        local tok mac1 mac2
        tok=$(sbx_token)
        run sbx_run1 --name "m-$tok" netpol -- sh -c 'cat /sys/class/net/eth0/address; cat /proc/net/route'
        sbx_assert_status 0
        mac1=$(head -1 <<<"$output")
        [[ $mac1 =~ ^[0-9a-f][26ae](:[0-9a-f]{2}){5}$ ]] || sbx_fail "not a local unicast MAC: $mac1"
        # Default route (destination 0) via 10.213.7.1 (0107D50A, little-endian).
        sbx_assert_match output "$output" $'eth0\t00000000\t0107D50A'
        # The name is free again once its controller has cleaned up and exited.
        sbx_poll 10 net_clean || true
        sbx_poll 10 container_gone "m-$tok" || sbx_fail "m-$tok still registered"
        run sbx_run1 --name "m-$tok" netpol -- cat /sys/class/net/eth0/address
        sbx_assert_status 0
        mac2=$output
        [[ $mac1 == "$mac2" ]] || sbx_fail "MAC changed between runs: $mac1 $mac2"
        run sbx_run1 --name "n-$tok" netpol -- cat /sys/class/net/eth0/address
        [[ $output != "$mac1" ]] || sbx_fail "two names, one MAC: $output"
}

@test "a name whose MAC or interface name another container holds is refused (no spoofing, no deleting others' links)" {
        local tok mac veth pid
        tok=$(sbx_token)
        sbx_bg "$SBX_U1" "$SBX_T/mc-$tok" "$SBX_RUN" --name "mc-$tok" netpol -- sleep "609.$tok"
        local client=$SBX_BG_PID
        sbx_poll 10 sbx_is_running sleep "609.$tok" || sbx_fail "did not start" "$(cat "$SBX_T/mc-$tok.err")"
        pid=$(sbx_pids_running sleep "609.$tok")
        mac=$(nsenter -t "$pid" -n ip -o link show eth0 | grep -o 'link/ether [0-9a-f:]*' | awk '{ print $2 }')
        veth=$(net_veths | head -1)
        veth=${veth%@*}
        [[ -n $mac && -n $veth ]] || sbx_fail "no MAC or veth: '$mac' '$veth'"
        run sbx_ctl1 stop "mc-$tok"
        sbx_wait_pid "$client" 15 || sbx_fail "did not stop"
        sbx_poll 10 net_clean || sbx_fail "left:" "$(net_describe)"
        sbx_poll 10 container_gone "mc-$tok" || sbx_fail "mc-$tok still registered"
        # As if a running container of another name held that MAC, then that link name.
        # (The failed starts remove claim directories they leave empty.)
        install -d -m 0700 "$SBX_T/run/net" "$SBX_T/run/net/macs"
        printf 'someone-else' >"$SBX_T/run/net/macs/$mac"
        run sbx_run1 --name "mc-$tok" netpol -- true
        rm -f "$SBX_T/run/net/macs/$mac"
        sbx_assert_status 125
        sbx_assert_match output "$output" "the MAC address $mac derived from the name 'mc-$tok' is another running container's"
        # The other container's link, with that name: it must survive the refusal.
        install -d -m 0700 "$SBX_T/run/net/links"
        printf 'someone-else' >"$SBX_T/run/net/links/$veth"
        dns ip link add name "$veth" type veth peer name mcpeer0
        run sbx_run1 --name "mc-$tok" netpol -- true
        local survived=0
        dns ip link show "$veth" >/dev/null 2>&1 && survived=1
        dns ip link del "$veth" 2>/dev/null || true
        rm -f "$SBX_T/run/net/links/$veth"
        rmdir "$SBX_T/run/net/macs" "$SBX_T/run/net/links" 2>/dev/null || true
        sbx_assert_status 125
        sbx_assert_match output "$output" "the interface name $veth derived from the name 'mc-$tok' is another running container's"
        ((survived)) || sbx_fail "the refused start deleted the other container's $veth"
}

@test "Mode=network with NAT: a LAN host is reached and sees the masqueraded address" {
        local port=$((20000 + RANDOM % 20000)) out=$SBX_T/lan-peer
        rm -f "$out" "$out.ready"
        lan "$SBX_T/net-probe" serve 192.168.77.2 "$port" "$out" </dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
        local server=$!
        sbx_poll 10 test -e "$out.ready" || sbx_fail "LAN server did not start"
        run sbx_run1 netpol -- "$(probe)" connect 192.168.77.2 "$port"
        sbx_assert_status 0
        sbx_wait_pid "$server" 10 || { kill "$server"; sbx_fail "LAN server got no connection"; }
        # The LAN host has no route to 10.213.7.0/24: it saw lan0's address.
        [[ $(cat "$out") == 192.168.77.1 ]] || sbx_fail "LAN host saw $(cat "$out"), not 192.168.77.1"
}

@test "Mode=network without NAT: nothing leaves the subnet masqueraded" {
        run sbx_run1 tinypol -- sh -c '"$0" ping 10.213.8.1 && echo gw-ok; "$0" connect 192.168.77.2 9; echo connect=$?' "$(probe)"
        sbx_assert_status 0
        sbx_assert_match output "$output" 'gw-ok'
        sbx_assert_match output "$output" 'connect=1'
        [[ -z $(net_tables) ]] || sbx_fail "NAT=no made a table: $(net_tables)"
}

@test "Mode=network: an exhausted pool is a clear error, and nothing is left half-made" {
        local tok
        tok=$(sbx_token)
        # A /30 has one address for containers (the other is the bridge's).
        sbx_bg "$SBX_U1" "$SBX_T/t-$tok" "$SBX_RUN" --name "t-$tok" tinypol -- sleep "602.$tok"
        local client=$SBX_BG_PID
        sbx_poll 10 sbx_is_running sleep "602.$tok" || sbx_fail "first did not start" "$(cat "$SBX_T/t-$tok.err")"
        run sbx_run1 tinypol -- true
        sbx_assert_status 125
        sbx_assert_match output "$output" "network 'tiny': the address pool 10\\.213\\.8\\.1-10\\.213\\.8\\.2 is exhausted \\(1 in use"
        run sbx_ctl1 stop "t-$tok"
        sbx_wait_pid "$client" 15 || sbx_fail "did not stop"
}

@test "Mode=bridge: an address from the pool on the admin's bridge, a peer on it reached" {
        run sbx_run1 brpool -- sh -c 'cat /sys/class/net/eth0/operstate; grep -c . /proc/net/route; '"$(probe)"' ping 10.9.0.50 && echo peer-ok; '"$(probe)"' ping 10.9.0.1 && echo gw-ok'
        sbx_assert_status 0
        sbx_assert_match output "$output" 'peer-ok'
        sbx_assert_match output "$output" 'gw-ok'
        # The peer namespace sees the container's address in its neighbours.
        run lan ip neigh show dev eth1
        sbx_assert_match output "$output" '10\.9\.0\.2 '
        # The admin's bridge is left as it was.
        run dns ip -o addr show dev brtest
        sbx_assert_match output "$output" '10\.9\.0\.1/24'
}

@test "Mode=bridge: a static Address=; a missing bridge and a missing network are clear errors" {
        run sbx_run1 brstatic -- sh -c '"$0" ping 10.9.0.50 && echo peer-ok' "$(probe)"
        sbx_assert_status 0
        sbx_assert_match output "$output" 'peer-ok'
        run lan ip neigh show dev eth1
        sbx_assert_match output "$output" '10\.9\.0\.77 '
        run sbx_run1 brmissing -- true
        sbx_assert_status 125
        sbx_assert_match output "$output" "bridge 'nosuchbr' does not exist"
        run sbx_run1 nonet -- true
        sbx_assert_status 125
        sbx_assert_match output "$output" "nosuchnet.ini: no such network"
}

@test "[Access]: a user not in the policy cannot attach to the bridge it names" {
        run sbx_run1 u2only -- true
        sbx_assert_status 125
        sbx_assert_match output "$output" 'not allowed to use policy'
        run sbx_as "$SBX_U2" "$SBX_RUN" u2only -- sh -c '"$0" ping 10.9.0.50 && echo peer-ok' "$(probe)"
        sbx_assert_status 0
        sbx_assert_match output "$output" 'peer-ok'
}

@test "100 runs on a virtual network leave no veth, lease, bridge or nft rule" {
        local i
        for ((i = 0; i < 100; i++)); do
                sbx_run1 netpol -- true >/dev/null 2>&1 || sbx_fail "run $i failed"
        done
        sbx_poll 10 net_clean || sbx_fail "leftovers after 100 runs:" "$(net_describe)"
}

@test "kill -9 of a controller: the daemon removes its veth, lease and network" {
        local tok ctl
        tok=$(sbx_token)
        sbx_bg "$SBX_U1" "$SBX_T/k-$tok" "$SBX_RUN" --name "k-$tok" netpol -- sleep "603.$tok"
        local client=$SBX_BG_PID
        sbx_poll 10 sbx_is_running sleep "603.$tok" || sbx_fail "did not start" "$(cat "$SBX_T/k-$tok.err")"
        [[ -n $(net_veths) && -n $(net_lease_of lab "k-$tok") ]] || sbx_fail "no veth or lease"
        run sbx_ctl1 info "k-$tok" --json
        ctl=$(sbx_json_get controller_pid <<<"$output")
        kill -KILL "$ctl"
        sbx_wait_pid "$client" 15 || true
        sbx_poll 10 net_clean || sbx_fail "leftovers after kill -9 of the controller:" "$(net_describe)"
}

@test "sbxctl network list/info show definitions, state and leases; stats has the veth's counters" {
        local tok
        tok=$(sbx_token)
        run sbx_ctl1 network list
        sbx_assert_status 0
        sbx_assert_match output "$output" '^lab$'
        sbx_assert_match output "$output" 'State=inactive'
        sbx_bg "$SBX_U1" "$SBX_T/s-$tok" "$SBX_RUN" --name "s-$tok" netpol -- sh -c '"$0" ping 10.213.7.1; exec sleep "$1"' "$(probe)" "604.$tok"
        local client=$SBX_BG_PID
        sbx_poll 10 sbx_is_running sleep "604.$tok" || sbx_fail "did not start" "$(cat "$SBX_T/s-$tok.err")"
        run sbx_ctl1 network info lab
        sbx_assert_status 0
        sbx_assert_match output "$output" 'State=active'
        sbx_assert_match output "$output" "Lease=10\\.213\\.7\\.[0-9]+ s-$tok"
        run sbx_ctl1 network list --json
        sbx_assert_status 0
        python3 -c 'import json, sys; json.loads(sys.argv[1])' "$output" || sbx_fail "not JSON: $output"
        sbx_assert_match output "$output" "\"leases\":\\[\\{\"address\":\"10\\.213\\.7\\.[0-9]+\",\"container\":\"s-$tok\"\\}\\]"
        # Another user sees the network, not the first user's container.
        run sbx_as "$SBX_U2" "$SBX_CTL" network info lab --json
        sbx_assert_status 0
        sbx_assert_match output "$output" '"leases":\[\]'
        sbx_assert_match output "$output" '"State":"active"'
        run sbx_ctl1 network info nosuchnet
        sbx_assert_status 1
        sbx_assert_match output "$output" "no such network 'nosuchnet'"
        run sbx_ctl1 stats "s-$tok" --json
        sbx_assert_status 0
        # The ping went out and came back: packets both ways.
        sbx_assert_match output "$output" '"network":\{"rx_bytes":[1-9][0-9]*,"rx_packets":[1-9][0-9]*,"tx_bytes":[1-9][0-9]*,"tx_packets":[1-9]'
        run sbx_ctl1 stats "s-$tok"
        sbx_assert_match output "$output" 'Network: .* received \([0-9]+ packets\)'
        # Only root destroys networks.
        run sbx_ctl1 network destroy lab
        sbx_assert_status 1
        sbx_assert_match output "$output" 'only root'
        run sbx_ctl1 stop "s-$tok"
        sbx_wait_pid "$client" 15 || sbx_fail "did not stop"
}

@test "sbxctl network destroy (root) removes an active network now; its users lose their link" {
        local tok
        tok=$(sbx_token)
        sbx_bg "$SBX_U1" "$SBX_T/d-$tok" "$SBX_RUN" --name "d-$tok" netpol -- sleep "605.$tok"
        local client=$SBX_BG_PID
        sbx_poll 10 sbx_is_running sleep "605.$tok" || sbx_fail "did not start" "$(cat "$SBX_T/d-$tok.err")"
        [[ -n $(net_tables) ]] || sbx_fail "no NAT table"
        run "$SBX_CTL" network destroy lab
        sbx_assert_status 0
        # Only the running container's MAC claim stays (until it exits).
        [[ -z $(net_tables) && -z $(net_bridges) && ! -e $SBX_T/run/net/network-lab ]] ||
                sbx_fail "left after destroy:" "$(net_describe)"
        run "$SBX_CTL" network destroy lab
        sbx_assert_status 1
        sbx_assert_match output "$output" "network 'lab' is not active"
        run sbx_ctl1 stop "d-$tok"
        sbx_wait_pid "$client" 15 || sbx_fail "did not stop"
}

@test "a daemon crash: the next start removes dead containers' leases, networks and veths" {
        local tok ctl d2
        tok=$(sbx_token)
        install -d -m 0755 "$SBX_T/run2"
        nsenter -t "$NET_HOLDER" -n env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
                "$SBX_BUILD_DIR/sandboxd" --foreground --policy-dir "$SBX_T/policies" \
                --run-dir "$SBX_T/run2" --network-dir "$NET_DIR" --log-level debug \
                </dev/null >>"$SBX_T/sandboxd2.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
        d2=$!
        echo "$d2" >>"$SBX_T/extra-daemons"
        sbx_register pid "$d2 $(sbx_pid_starttime "$d2")"
        sbx_poll 10 test -S "$SBX_T/run2/sandboxd.sock" || sbx_fail "second daemon did not start"
        sbx_bg "$SBX_U1" "$SBX_T/c-$tok" "$SBX_RUN" --socket "$SBX_T/run2/sandboxd.sock" \
                --name "c-$tok" netpol -- sleep "606.$tok"
        local client=$SBX_BG_PID
        sbx_poll 10 sbx_is_running sleep "606.$tok" || sbx_fail "did not start" "$(cat "$SBX_T/c-$tok.err")"
        run sbx_ctl1 --socket "$SBX_T/run2/sandboxd.sock" info "c-$tok" --json
        ctl=$(sbx_json_get controller_pid <<<"$output")
        # The crash: daemon and controller gone at once, nobody cleans up.
        kill -KILL "$d2" "$ctl"
        sbx_wait_pid "$d2" 10 || true
        sbx_wait_pid "$client" 15 || true
        [[ -n $(find "$SBX_T/run2/net" -name '10.213.7.*') && -n $(net_tables) ]] ||
                sbx_fail "expected a stale lease and table before the restart"
        # And a host veth nobody owns, as a controller killed mid-setup leaves.
        dns ip link add name vsbx0000dead00 type veth peer name vsbx0000dead01
        nsenter -t "$NET_HOLDER" -n env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
                "$SBX_BUILD_DIR/sandboxd" --foreground --policy-dir "$SBX_T/policies" \
                --run-dir "$SBX_T/run2" --network-dir "$NET_DIR" --log-level debug \
                </dev/null >>"$SBX_T/sandboxd2.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
        d2=$!
        echo "$d2" >>"$SBX_T/extra-daemons"
        sbx_register pid "$d2 $(sbx_pid_starttime "$d2")"
        sbx_poll 10 test -S "$SBX_T/run2/sandboxd.sock" || sbx_fail "restarted daemon did not start"
        # The sweep runs right after the daemon starts listening.
        local left
        sbx_poll 10 run2_net_empty || true
        left=$(find "$SBX_T/run2/net" -mindepth 1 2>/dev/null)
        kill -TERM "$d2"
        sbx_wait_pid "$d2" 10 || kill -KILL "$d2"
        [[ -z $left && -z $(net_veths) && -z $(net_tables) && -z $(net_bridges) ]] ||
                sbx_fail "left after the restart: $left" "$(net_describe)" "$(cat "$SBX_T/sandboxd2.log")"
        rm -rf "$SBX_T/run2"
}

@test "IngressRate=/EgressRate=: token buckets on the host end and on eth0, out of the sandbox's reach" {
        local tok pid veth
        tok=$(sbx_token)
        sbx_bg "$SBX_U1" "$SBX_T/r-$tok" "$SBX_RUN" --name "r-$tok" ratepol -- sleep "607.$tok"
        local client=$SBX_BG_PID
        sbx_poll 10 sbx_is_running sleep "607.$tok" || sbx_fail "did not start" "$(cat "$SBX_T/r-$tok.err")"
        pid=$(sbx_pids_running sleep "607.$tok")
        veth=$(net_veths | head -1)
        veth=${veth%@*}
        # What the host end sends, the sandbox receives: IngressRate= there.
        run dns tc qdisc show dev "$veth"
        sbx_assert_match output "$output" 'qdisc tbf .* rate 8Mbit'
        run nsenter -t "$pid" -n tc qdisc show dev eth0
        sbx_assert_match output "$output" 'qdisc tbf .* rate 4Mbit'
        # No CAP_NET_ADMIN inside: the limit cannot be lifted from there.
        run sbx_run1 ratepol -- sh -c 'tc qdisc del dev eth0 root 2>&1; echo rc=$?'
        sbx_assert_match output "$output" 'rc=[12]'
        run sbx_ctl1 stop "r-$tok"
        sbx_wait_pid "$client" 15 || sbx_fail "did not stop"
}

@test "Mode=bridge: a static IPv6 Address= and Gateway= (no duplicate address detection delay), a peer reached" {
        run sbx_run1 brstatic6 -- sh -c 'cat /proc/net/if_inet6 /proc/net/ipv6_route; echo "ra=$(cat /proc/sys/net/ipv6/conf/eth0/accept_ra) autoconf=$(cat /proc/sys/net/ipv6/conf/eth0/autoconf)"; "$0" ping fd00:9::50 && echo peer-ok' "$(probe)"
        sbx_assert_status 0
        sbx_assert_match output "$output" '^fd000009000000000000000000000077 .* eth0$'
        # Only what the policy says: no router advertisements from the bridge.
        sbx_assert_match output "$output" '^ra=0 autoconf=0$'
        # The default route (::/0) via Gateway=.
        sbx_assert_match output "$output" '^0{32} 00 0{32} 00 fd000009000000000000000000000050 .* eth0$'
        sbx_assert_match output "$output" 'peer-ok'
}

@test "20 concurrent containers on one network get 20 different addresses; nothing left" {
        local i pids=() out=$SBX_T/conc
        rm -f "$out".* "$SBX_T/conc-go"
        # Each prints its address, then waits until all 20 have: all live at once.
        for ((i = 0; i < 20; i++)); do
                sbx_bg "$SBX_U1" "$out.$i" "$SBX_RUN" netpol -- sh -c 'grep -o "10\.213\.7\.[0-9]*" /proc/net/fib_trie | sort -u | grep -v "\.0$\|\.1$\|\.255$"; while [ ! -e "$0" ]; do sleep 0.05; done' "$SBX_T/conc-go"
                pids+=("$SBX_BG_PID")
        done
        sbx_poll 30 outs_ready 20 "$out" || sbx_fail "not all 20 started:" "$(cat "$out".*.err)"
        touch "$SBX_T/conc-go"
        for i in "${pids[@]}"; do
                sbx_wait_pid "$i" 30 || sbx_fail "run $i did not finish"
        done
        local addrs
        addrs=$(cat "$out".*.out | sort)
        [[ $(wc -l <<<"$addrs") -eq 20 ]] || sbx_fail "expected 20 addresses:" "$addrs" "$(cat "$out".*.err)"
        [[ -z $(uniq -d <<<"$addrs") ]] || sbx_fail "an address was handed out twice:" "$addrs"
}

@test "a daemon restart keeps running containers' leases and veths (the sweep spares them)" {
        local tok d2 ip
        tok=$(sbx_token)
        install -d -m 0755 "$SBX_T/run3"
        start_d3() {
                nsenter -t "$NET_HOLDER" -n env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
                        "$SBX_BUILD_DIR/sandboxd" --foreground --policy-dir "$SBX_T/policies" \
                        --run-dir "$SBX_T/run3" --network-dir "$NET_DIR" --log-level debug \
                        </dev/null >>"$SBX_T/sandboxd3.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
                d2=$!
                echo "$d2" >>"$SBX_T/extra-daemons"
        echo "$d2" >>"$SBX_T/extra-daemons"
                sbx_register pid "$d2 $(sbx_pid_starttime "$d2")"
                sbx_poll 10 test -S "$SBX_T/run3/sandboxd.sock" || sbx_fail "daemon 3 did not start"
        }
        start_d3
        sbx_bg "$SBX_U1" "$SBX_T/k3-$tok" "$SBX_RUN" --socket "$SBX_T/run3/sandboxd.sock" \
                --name "k3-$tok" netpol -- sh -c 'while :; do sleep 0.2; done; : 608.'"$tok"
        local client=$SBX_BG_PID
        sbx_poll 10 run3_has_lease || sbx_fail "no lease" "$(cat "$SBX_T/k3-$tok.err")"
        ip=$(basename "$(find "$SBX_T/run3/net" -name '10.213.7.*' | head -1)")
        kill -TERM "$d2"
        sbx_wait_pid "$d2" 10 || sbx_fail "daemon 3 ignored SIGTERM"
        start_d3
        run sbx_ctl1 --socket "$SBX_T/run3/sandboxd.sock" info "k3-$tok"
        sbx_assert_status 0
        [[ -e $SBX_T/run3/net/network-lab/$ip && -n $(net_veths) && -n $(net_tables) ]] ||
                sbx_fail "the restart swept a live container's network:" "$(net_describe)"
        # Still reachable from another container of the (same) network.
        run sbx_run1 --socket "$SBX_T/run3/sandboxd.sock" netpol -- "$(probe)" ping "$ip"
        sbx_assert_status 0
        run sbx_ctl1 --socket "$SBX_T/run3/sandboxd.sock" stop "k3-$tok"
        sbx_wait_pid "$client" 15 || sbx_fail "did not stop"
        sbx_poll 10 net_clean || sbx_fail "left after stop:" "$(net_describe)"
        kill -TERM "$d2"
        sbx_wait_pid "$d2" 10 || kill -KILL "$d2"
        rm -rf "$SBX_T/run3"
}

@test "a network that cannot be made whole is undone whole: no bridge, table or state left" {
        run sbx_run1 brokenpol -- true
        sbx_assert_status 125
        sbx_assert_match output "$output" "network 'broken': cannot enable forwarding on nosuch0"
        run dns ip link show sbxbroken
        [[ $status -ne 0 ]] || sbx_fail "bridge sbxbroken left behind"
        [[ -z $(net_tables) && -z $(net_leases) ]] || sbx_fail "left:" "$(net_describe)"
}

@test "a network directory left half-made (no .config, no lease) is made again, not a dead end" {
        install -d -m 0700 "$SBX_T/run/net" "$SBX_T/run/net/network-lab"
        run sbx_run1 netpol -- sh -c '"$0" ping 10.213.7.1 && echo gw-ok' "$(probe)"
        sbx_assert_status 0
        sbx_assert_match output "$output" 'gw-ok'
}

@test "Mode=bridge: a gateway outside the pool's prefix is on-link; an interface that is not a bridge is refused" {
        run sbx_run1 brhalf -- sh -c 'ip -4 -o addr show dev eth0; ip route show default; "$0" ping 10.9.0.1 && echo gw-ok' "$(probe)"
        sbx_assert_status 0
        sbx_assert_match output "$output" 'inet 10\.9\.0\.129/25'
        sbx_assert_match output "$output" 'default via 10\.9\.0\.1 dev eth0 .*onlink'
        sbx_assert_match output "$output" 'gw-ok'
        run sbx_run1 brnotbridge -- true
        sbx_assert_status 125
        sbx_assert_match output "$output" "'lan0' is not a bridge"
}
