package main

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// percentile is the nearest-rank percentile p of samples (NaN for none).
func percentile(samples []float64, p float64) float64 {
	if len(samples) == 0 {
		return math.NaN()
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank-1, 0), len(s)-1)]
}

// median is the middle value (the upper one of two, as the reference
// harness takes), ignoring NaN; NaN for none.
func median(values []float64) float64 {
	var v []float64
	for _, x := range values {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// clockTicks is sysconf(_SC_CLK_TCK) from getconf, 100 when unknown.
func clockTicks() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err != nil {
		return 100
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil || n <= 0 {
		return 100
	}
	return n
}

// procStat reads utime+stime (clock ticks) and the parent of a process from
// /proc/<pid>/stat.
func procStat(pid string) (ticks, ppid int64, ok bool) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 > len(b) {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 13 {
		return 0, 0, false
	}
	ppid, _ = strconv.ParseInt(f[1], 10, 64)
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s, ppid, true
}

// processCPU is the CPU seconds pid has used; NaN when it cannot be read.
func processCPU(pid int, hz float64) float64 {
	t, _, ok := procStat(strconv.Itoa(pid))
	if !ok {
		return math.NaN()
	}
	return float64(t) / hz
}

// treeCPU is the CPU seconds of root and all its descendants (PostgreSQL's
// postmaster and its backends); NaN when root cannot be read.
func treeCPU(root int, hz float64) float64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return math.NaN()
	}
	type st struct{ ticks, ppid int64 }
	procs := map[int64]st{}
	for _, e := range entries {
		pid, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil {
			continue
		}
		if t, pp, ok := procStat(e.Name()); ok {
			procs[pid] = st{t, pp}
		}
	}
	if _, ok := procs[int64(root)]; !ok {
		return math.NaN()
	}
	var ticks int64
	for pid, s := range procs {
		for p, n := pid, 0; p > 1 && n < 64; p, n = procs[p].ppid, n+1 {
			if p == int64(root) {
				ticks += s.ticks
				break
			}
		}
	}
	return float64(ticks) / hz
}

// machineBusy is the CPU seconds all cores have been busy since boot, from
// /proc/stat's first line (everything but idle and iowait); NaN elsewhere.
func machineBusy(hz float64) float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return math.NaN()
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return math.NaN()
	}
	var total, idle float64
	for i, x := range f[1:] {
		v, _ := strconv.ParseFloat(x, 64)
		total += v
		if i == 3 || i == 4 {
			idle += v
		}
	}
	// Guest time is also counted in user time.
	if len(f) > 9 {
		for _, x := range f[9:] {
			v, _ := strconv.ParseFloat(x, 64)
			total -= v
		}
	}
	return (total - idle) / hz
}
