-- SPDX-License-Identifier: MIT
--
-- RFC 2544-style no-drop-rate (NDR) search for Pktgen-DPDK on two ports: port 0 sends the
-- pcap loaded with -s 0:FILE toward the gateway, and a trial's loss is measured either on
-- port 1 (loss_mode "ports": what came back on port 1 against what port 0 sent, scaled by
-- expect_ratio) or by the gateway itself (loss_mode "dut": dut_rx_cmd prints the packets the
-- gateway's workers received; loss = 1 - delta(dut rx) / delta(port 0 tx)). Binary search
-- over the rate (percent of line rate) between rate_lo and rate_hi until the bracket is
-- narrower than resolution; a trial passes when loss <= loss_threshold. Each trial clears
-- the counters, sends for trial_ms, stops, waits settle_ms and reads pktgen.portStats.
--   pktgen -l 0-1 -n 2 --no-huge -m 3072 ... -- -P -m "1.0, 1.1" -s 0:junk-p100.pcap -f ndr.lua
-- See README.md for which pcap fits which loss_mode.

package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;"
require "Pktgen"

local function printf(...) io.write(string.format(...)); io.flush() end

-- Variables of the search.
local tx_port        = "0"
local rx_port        = "1"
local loss_threshold = 0.0      -- fraction lost that still passes (0.0 = strict NDR; 0.001 = 0.1 %)
local trial_ms       = 10000    -- trial duration (RFC 2544 asks for at least 60 s in final runs)
local settle_ms      = 2000     -- wait after stop before reading counters
local rate_lo        = 0.0      -- percent of line rate known to pass (0 = assume)
local rate_hi        = 100.0    -- percent of line rate to try first
local resolution     = 0.5      -- stop when hi - lo < this (percent)
local expect_ratio   = 1.0      -- loss_mode "ports": packets expected on rx_port per packet sent
local loss_mode      = "dut"    -- "ports" or "dut"
-- loss_mode "dut": the gateway counter summed over its workers: nic_rx_packets (received,
-- the rejection path) or tun_tx_packets (decrypted and written to the TUN: the decrypt NDR
-- of a gateway started with --bench-sessions, see README.md).
local dut_counter    = "nic_rx_packets"
-- loss_mode "dut": prints one integer, that counter's value now.
local dut_rx_cmd     = "kill -USR1 $(cat /run/fastgate-pktgen.pid) && sleep 0.3 && " ..
                       "awk '/^worker[0-9]+\\." .. dut_counter .. " /{s+=$2} END{print s+0}' " ..
                       "/var/run/fastgate/tun-fgpktgen.stats"

local gw_ip  = "198.18.0.1"
local gw_mac = "02:00:5e:10:00:01"

local function setup()
    pktgen.set_ipaddr(tx_port, "src", "198.18.0.2/24")
    pktgen.set_ipaddr(tx_port, "dst", gw_ip)
    pktgen.set_mac(tx_port, "dst", gw_mac)
    pktgen.set_ipaddr(rx_port, "src", "198.18.0.3/24")
    pktgen.set_ipaddr(rx_port, "dst", gw_ip)
    pktgen.set_mac(rx_port, "dst", gw_mac)
    pktgen.set_proto(tx_port, "udp")
    if pktgen.pcap then pktgen.pcap(tx_port, "on") end
    pktgen.set(tx_port, "count", 0)
end

local function dut_rx()
    local h = io.popen(dut_rx_cmd)
    local v = h and tonumber(h:read("*l") or "")
    if h then h:close() end
    if not v then error("dut_rx_cmd printed no number: " .. dut_rx_cmd) end
    return v
end

local function stats(p)
    return pktgen.portStats(p, "port")[tonumber(p)]
end

-- One trial at rate (percent): returns loss fraction, tx, received.
local function trial(rate)
    pktgen.set(tx_port, "rate", rate)
    pktgen.clr()
    pktgen.delay(500)
    local dut0 = loss_mode == "dut" and dut_rx() or 0
    pktgen.start(tx_port)
    pktgen.delay(trial_ms)
    pktgen.stop(tx_port)
    pktgen.delay(settle_ms)
    local t, r = stats(tx_port), stats(rx_port)
    local got
    if loss_mode == "dut" then
        got = dut_rx() - dut0
    else
        got = r.ipackets / expect_ratio
    end
    local tx = t.opackets
    local loss = tx > 0 and math.max(0, (tx - got) / tx) or 1.0
    printf("trial rate %7.3f%%: tx %d (%.0f pps) got %.0f loss %.6f imissed(rx port) %d -> %s\n",
           rate, tx, tx * 1000 / trial_ms, got, loss, r.imissed,
           loss <= loss_threshold and "pass" or "FAIL")
    return loss, tx
end

setup()
printf("NDR search: mode %s, threshold %g, trial %d ms, range %g..%g %%, resolution %g %%\n",
       loss_mode, loss_threshold, trial_ms, rate_lo, rate_hi, resolution)
local lo, hi = rate_lo, rate_hi
local best_pps = 0
local loss, tx = trial(hi)
if loss <= loss_threshold then
    lo, best_pps = hi, tx * 1000 / trial_ms
else
    while hi - lo >= resolution do
        local mid = (lo + hi) / 2
        loss, tx = trial(mid)
        if loss <= loss_threshold then
            lo, best_pps = mid, tx * 1000 / trial_ms
        else
            hi = mid
        end
    end
end
printf("NDR: %.3f %% of line rate, %.0f packets/s offered (threshold %g, %s)\n",
       lo, best_pps, loss_threshold, loss_mode)
pktgen.quit()
