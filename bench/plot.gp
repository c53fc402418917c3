# SPDX-License-Identifier: MIT
# Draws fastgate-bench's CSV: inner Gbit/s against inner packet size (IMIX at its mean size),
# one panel per direction, one line per row kind and worker count: the host-path rows
# (-tcp, -udp: the real TUN and kernel sockets, each TunIo mode of the run) and the
# worker-only rows at 100 peers (the TUN replaced by /dev/null or a socketpair), with the raw
# AEAD rate of the same backend as a dashed reference. Run by `fastgate-bench --plot FILE.png`
# (scripts/bench.sh), or:
#   gnuplot -e "csv='bench/results.csv'; out='bench/throughput.png'" bench/plot.gp
if (!exists("csv")) csv = 'bench/results.csv'
if (!exists("out")) out = 'bench/throughput.png'

set terminal pngcairo noenhanced size 1400,560 font ",10"
set output out
set datafile separator ','
set grid
set key top left box opaque
set logscale x 2
set xrange [48:2048]
set xtics ("64" 64, "imix" 348, "512" 512, "1420" 1420)
set xlabel "inner IP packet size (bytes)"
set ylabel "inner Gbit/s (worker time)"
backend = system("awk -F, 'NR==2 {print $1}' " . csv)

workers = "1 2"
tunio = system("awk -F, 'NR > 1 && $19 == \"host\" {print $20}' " . csv . " | sort -u | tr '\\n' ' '")
# Rows of one series, sorted by size (awk keeps gnuplot's lines unbroken by other series):
# direction name d, workers w, and for host rows the TunIo mode t ("-" for worker-only rows,
# which are drawn at 100 peers).
rows(d, w, t) = sprintf("< awk -F, '$2 == \"%s\" && $6 == %s && $20 == \"%s\" && ($19 == \"host\" || $5 == 100)' '%s' | sort -t, -k4,4n", d, w, t, csv)

set multiplot layout 1,2 title sprintf("fastgate-bench, AEAD %s", backend)
do for [dir in "decrypt encrypt"] {
    set title dir
    plot for [w in workers] rows(dir, w, "-") using 4:9 with linespoints dt 3 \
             title sprintf("%s worker-only, %s worker(s)", dir, w), \
         for [t in tunio] for [k in "tcp udp"] for [w in workers] rows(dir . "-" . k, w, t) using 4:9 \
             with linespoints title sprintf("%s-%s %s, %s worker(s)", dir, k, t, w), \
         sprintf("< awk -F, '$2 == \"%s-udp\" && $6 == 1' '%s' | sort -t, -k4,4n", dir, csv) using 4:($11 * $4 * 8 / 1000) \
             with lines dt 2 lw 2 lc rgb "black" title "raw AEAD, 1 core"
}
unset multiplot
