# SPDX-License-Identifier: MIT
# Draws fastgate-bench's CSV: inner Gbit/s against inner packet size (IMIX at its mean size),
# one panel per direction, one line per (peers, workers), and the raw AEAD rate of the same
# backend (1 peer) as a dashed reference. Run by `fastgate-bench --plot FILE.png`, or:
#   gnuplot -e "csv='bench/results.csv'; out='bench/throughput.png'" bench/plot.gp
if (!exists("csv")) csv = 'bench/results.csv'
if (!exists("out")) out = 'bench/throughput.png'

set terminal pngcairo size 1400,560 font ",10"
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

peers = "1 100 10000"
workers = "1 2"
# Rows of one series, sorted by size (awk keeps gnuplot's lines unbroken by other series).
rows(d, p, w) = sprintf("< awk -F, '$2 == \"%s\" && $5 == %s && $6 == %s' '%s' | sort -t, -k4,4n", d, p, w, csv)

set multiplot layout 1,2 title sprintf("fastgate-bench, AEAD %s", backend)
do for [d in "decrypt encrypt"] {
    set title d
    plot for [p in peers] for [w in workers] rows(d, p, w) using 4:9 \
             with linespoints title sprintf("%s peer(s), %s worker(s)", p, w), \
         rows(d, "1", "1") using 4:($11 * $4 * 8 / 1000) with lines dt 2 lw 2 lc rgb "black" \
             title "raw AEAD, 1 core"
}
unset multiplot
