package loadtest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is the unit of utime and stime in /proc/<pid>/stat: USER_HZ, 100 on every
// Linux that Go runs on.
const clockTicks = 100

func procPath(pid int, file string) string {
	if pid == 0 {
		return "/proc/self/" + file
	}
	return "/proc/" + strconv.Itoa(pid) + "/" + file
}

// memKiB reads VmRSS and VmHWM (the peak RSS) of a process from /proc/<pid>/status; pid 0
// is this process.
func memKiB(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(procPath(pid, "status"))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		var dst *int64
		switch {
		case strings.HasPrefix(line, "VmRSS:"):
			dst = &rss
		case strings.HasPrefix(line, "VmHWM:"):
			dst = &hwm
		default:
			continue
		}
		fields := strings.Fields(line)
		if len(fields) >= 2 {
			*dst, _ = strconv.ParseInt(fields[1], 10, 64)
		}
	}
	if rss == 0 {
		return 0, 0, fmt.Errorf("loadtest: no VmRSS in %s", procPath(pid, "status"))
	}
	return rss, hwm, sc.Err()
}

func rssKiB(pid int) (int64, error) {
	rss, _, err := memKiB(pid)
	return rss, err
}

// cpuSeconds is the user and system CPU time a process has used; pid 0 is this process.
// It returns 0 when it cannot be read.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(procPath(pid, "stat"))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may contain spaces; the fields follow its end.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(string(b[i+1:]))
	// After the name: state is field 3 of the file, utime 14 and stime 15.
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return float64(utime+stime) / clockTicks
}
