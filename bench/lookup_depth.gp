# bench/lookup_depth.gp — ns/op against path depth, uvfs vs the kernel.
# Input: bench/results/lookup.csv (written by build/bench/bench_lookup).
# Run from the repository root: gnuplot bench/lookup_depth.gp
set datafile separator ","
set terminal pngcairo size 900,560 enhanced font "DejaVu Sans,11"
set output "bench/results/lookup_depth.png"
set title "Path lookup + stat: uvfs (in process) vs kernel fstatat, tmpfs, 1 thread"
set xlabel "depth (nested directories; path = depth + 1 components)"
set ylabel "ns per stat (log scale)"
set logscale y
set logscale x 2
set xtics ("1" 1, "4" 4, "8" 8, "16" 16, "64" 64)
set xrange [0.8:80]
set grid xtics ytics mytics
set key top left box opaque
sel(g) = (strcol(2) eq g) ? $3 : NaN
plot "bench/results/lookup.csv" every ::1 using (sel("depth")):7 with linespoints lw 2 pt 7 lc rgb "#c0392b" title "kernel fstatat", \
     ""                         every ::1 using (sel("mount")):7 with linespoints lw 2 pt 6 dt 2 lc rgb "#e67e22" title "kernel, 1 mount crossing", \
     ""                         every ::1 using (sel("depth")):5 with linespoints lw 2 pt 5 lc rgb "#2471a3" title "uvfs\\_stat\\_at (RCU-walk)", \
     ""                         every ::1 using (sel("mount")):5 with linespoints lw 2 pt 4 dt 2 lc rgb "#5dade2" title "uvfs, 1 mount crossing", \
     ""                         every ::1 using (sel("refwalk")):5 with linespoints lw 2 pt 9 dt 3 lc rgb "#7d3c98" title "uvfs, forced ref-walk"
