# bench/lookup_depth.gp — ns/op against path depth, uvfs vs the kernel, and
# the speed-up. Input: bench/results/lookup.csv (build/bench/bench_lookup).
# Run from the repository root: gnuplot bench/lookup_depth.gp
set datafile separator ","
set terminal pngcairo size 1280,560 enhanced font "DejaVu Sans,11"
set output "bench/results/lookup_depth.png"
sel(g) = (strcol(2) eq g) ? $3 : NaN
set multiplot layout 1,2 title "Path lookup + stat on tmpfs, 1 thread: uvfs\\_stat\\_at (in process) vs kernel fstatat (median ns, thread CPU time)"
set logscale x 2
set xtics ("1" 1, "4" 4, "8" 8, "16" 16, "64" 64)
set xrange [0.8:80]
set xlabel "depth (nested directories; path = depth + 1 components)"
set grid xtics ytics mytics

set title "ns per stat (log scale)"
set logscale y
set ylabel "ns/op"
set key top left box opaque
plot "bench/results/lookup.csv" every ::1 using (sel("depth")):7 with linespoints lw 2 pt 7 lc rgb "#c0392b" title "kernel fstatat", \
     ""                         every ::1 using (sel("mount")):7 with linespoints lw 2 pt 6 dt 2 lc rgb "#e67e22" title "kernel, 1 mount crossing", \
     ""                         every ::1 using (sel("depth")):5 with linespoints lw 2 pt 5 lc rgb "#2471a3" title "uvfs (RCU-walk)", \
     ""                         every ::1 using (sel("mount")):5 with linespoints lw 2 pt 4 dt 2 lc rgb "#5dade2" title "uvfs, 1 mount crossing", \
     ""                         every ::1 using (sel("refwalk")):5 with linespoints lw 2 pt 9 dt 3 lc rgb "#7d3c98" title "uvfs, forced ref-walk"

set title "speed-up: kernel ns / uvfs ns"
unset logscale y
set ylabel "kernel / uvfs"
set yrange [0:*]
set key top right box opaque
plot "bench/results/lookup.csv" every ::1 using (sel("depth")):9 with linespoints lw 2 pt 5 lc rgb "#2471a3" title "RCU-walk", \
     ""                         every ::1 using (sel("mount")):9 with linespoints lw 2 pt 4 dt 2 lc rgb "#5dade2" title "1 mount crossing", \
     ""                         every ::1 using (sel("refwalk")):9 with linespoints lw 2 pt 9 dt 3 lc rgb "#7d3c98" title "forced ref-walk", \
     15 with lines lw 1 dt 4 lc rgb "#555555" title "target at depth 8: 15x"
unset multiplot
