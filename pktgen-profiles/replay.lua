-- SPDX-License-Identifier: MIT
--
-- Pktgen-DPDK Lua profile: replays the pcap loaded with -s 0:FILE on port 0 toward the
-- fastgate uplink at a fixed rate for a fixed time, then prints port 0's and port 1's
-- rx/tx/error/drop counters and quits. Edit the variables below (or copy the file).
--   pktgen -l 0-1 -n 2 --no-huge -m 3072 ... -- -P -m "1.0, 1.1" -s 0:junk-p100.pcap -f replay.lua
-- MACs and addresses of the replayed frames come from the pcap (fastgate-gen-pcaps options);
-- the set_* calls keep every port off Pktgen's default 192.168.x addresses.

package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;"
require "Pktgen"

local function printf(...) io.write(string.format(...)); io.flush() end

local tx_port   = "0"
local rx_port   = "1"           -- set to nil for a one-port run
local rate_pct  = 10            -- percent of line rate
local duration  = 10000         -- ms
local gw_ip     = "198.18.0.1"
local gw_mac    = "02:00:5e:10:00:01"
local tx_ip     = "198.18.0.2/24"
local rx_ip     = "198.18.0.3/24"

local function setup()
    pktgen.set_ipaddr(tx_port, "src", tx_ip)
    pktgen.set_ipaddr(tx_port, "dst", gw_ip)
    pktgen.set_mac(tx_port, "dst", gw_mac)
    if rx_port then
        pktgen.set_ipaddr(rx_port, "src", rx_ip)
        pktgen.set_ipaddr(rx_port, "dst", gw_ip)
        pktgen.set_mac(rx_port, "dst", gw_mac)
    end
    pktgen.set_proto(tx_port, "udp")
    pktgen.set(tx_port, "sport", 40000)
    pktgen.set(tx_port, "dport", 51820)
    if pktgen.pcap then pktgen.pcap(tx_port, "on") end  -- also implied by -s on most versions
    pktgen.set(tx_port, "count", 0)
    pktgen.set(tx_port, "rate", rate_pct)
end

local function show(p)
    local s = pktgen.portStats(p, "port")[tonumber(p)]
    printf("port %s: tx %d pkts %d bytes, rx %d pkts %d bytes, ierrors %d oerrors %d imissed %d rx_nombuf %d\n",
           p, s.opackets, s.obytes, s.ipackets, s.ibytes, s.ierrors, s.oerrors, s.imissed, s.rx_nombuf)
    return s
end

setup()
pktgen.clr()
pktgen.delay(500)
pktgen.start(tx_port)
pktgen.delay(duration)
pktgen.stop(tx_port)
pktgen.delay(1000)                 -- let the last responses arrive
local t = show(tx_port)
if rx_port then
    local r = show(rx_port)
    printf("replay: rate %d%% for %d ms: tx %d, rx on port %s %d, not returned %d\n",
           rate_pct, duration, t.opackets, rx_port, r.ipackets, t.opackets - r.ipackets)
end
pktgen.quit()
