// runc-wrapper: a drop-in runtime for machines whose capability bounding set lacks some
// capabilities (measured: CAP_SYS_RESOURCE in this sandbox). Privileged containers ask for
// every capability and runc then fails with "unable to apply caps"; runc also cannot lower
// oom_score_adj without CAP_SYS_RESOURCE (the kubelet asks -998 for pod sandboxes).
//
// Before calling the real runc it rewrites the OCI spec it is given:
//   - create/run: <bundle>/config.json (.process.capabilities, .process.oomScoreAdj)
//   - exec:       the --process FILE JSON (.capabilities, .oomScoreAdj)
//
// removing every capability outside its own bounding set and raising a negative
// oomScoreAdj below its own value up to that value. Where nothing is missing it
// is a plain exec of the real runc, so the same binary is safe on any machine.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// realRunc is set at link time (-X main.realRunc=/usr/sbin/runc); RUNC_WRAPPER_REAL overrides it.
var realRunc = "/usr/local/sbin/runc.real"

// capNames follows linux/capability.h; index = capability number.
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// Global runc flags that take a separate value (so the value is not taken for the subcommand).
var globalValueFlags = map[string]bool{"--root": true, "--log": true, "--log-format": true, "--criu": true, "--rootless": true}

type limits struct {
	bounding uint64 // own capability bounding set
	oomAdj   int    // own oom_score_adj
}

func main() {
	real := realRunc
	if v := os.Getenv("RUNC_WRAPPER_REAL"); v != "" {
		real = v
	}
	if err := rewrite(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "runc-wrapper: %v\n", err)
		os.Exit(1)
	}
	args := append([]string{real}, os.Args[1:]...)
	if err := syscall.Exec(real, args, os.Environ()); err != nil {
		fmt.Fprintf(os.Stderr, "runc-wrapper: exec %s: %v\n", real, err)
		os.Exit(127)
	}
}

// rewrite edits the spec file named by the runc command line, if any, in place.
func rewrite(args []string) error {
	lim, err := ownLimits()
	if err != nil {
		return err
	}
	sub, rest := subcommand(args)
	var file, capsPath string
	switch sub {
	case "create", "run":
		bundle := flagValue(rest, "--bundle", "-b")
		if bundle == "" {
			bundle, _ = os.Getwd()
		}
		file, capsPath = filepath.Join(bundle, "config.json"), "process"
	case "exec":
		file = flagValue(rest, "--process", "-p")
	}
	if file == "" {
		return nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	out, changed, err := rewriteSpec(data, capsPath, lim)
	if err != nil || !changed {
		return err
	}
	return os.WriteFile(file, out, 0o644)
}

// rewriteSpec returns the JSON with capabilities outside the bounding set removed and a
// too-low oomScoreAdj raised; processKey is "process" for config.json and "" for a process file.
func rewriteSpec(data []byte, processKey string, lim limits) ([]byte, bool, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keep large integers (memory limits) exact
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, false, err
	}
	proc := doc
	if processKey != "" {
		p, ok := doc[processKey].(map[string]any)
		if !ok {
			return data, false, nil
		}
		proc = p
	}
	changed := false
	if caps, ok := proc["capabilities"].(map[string]any); ok {
		for set, list := range caps {
			items, ok := list.([]any)
			if !ok {
				continue
			}
			kept := make([]any, 0, len(items))
			for _, item := range items {
				name, _ := item.(string)
				if bit := capBit(name); bit >= 0 && lim.bounding&(1<<uint(bit)) == 0 {
					changed = true
					continue
				}
				kept = append(kept, item)
			}
			caps[set] = kept
		}
	}
	if raw, ok := proc["oomScoreAdj"].(json.Number); ok {
		if v, err := raw.Int64(); err == nil && int(v) < lim.oomAdj && lim.bounding&(1<<24) == 0 {
			proc["oomScoreAdj"] = lim.oomAdj
			changed = true
		}
	}
	if !changed {
		return data, false, nil
	}
	out, err := json.Marshal(doc)
	return out, true, err
}

func capBit(name string) int {
	for i, n := range capNames {
		if n == name {
			return i
		}
	}
	return -1
}

func subcommand(args []string) (string, []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			if globalValueFlags[a] {
				i++
			}
			continue
		}
		return a, args[i+1:]
	}
	return "", nil
}

func flagValue(args []string, long, short string) string {
	for i, a := range args {
		if (a == long || a == short) && i+1 < len(args) {
			return args[i+1]
		}
		if strings.HasPrefix(a, long+"=") {
			return strings.TrimPrefix(a, long+"=")
		}
	}
	return ""
}

// ownLimits reads CapBnd and oom_score_adj of this process (paths overridable for tests).
func ownLimits() (limits, error) {
	status := envOr("RUNC_WRAPPER_PROC_STATUS", "/proc/self/status")
	oomFile := envOr("RUNC_WRAPPER_OOM_SCORE_ADJ", "/proc/self/oom_score_adj")
	lim := limits{bounding: ^uint64(0)}
	f, err := os.Open(status)
	if err != nil {
		return lim, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapBnd:"); ok {
			if lim.bounding, err = strconv.ParseUint(strings.TrimSpace(v), 16, 64); err != nil {
				return lim, err
			}
		}
	}
	raw, err := os.ReadFile(oomFile)
	if err != nil {
		return lim, err
	}
	lim.oomAdj, err = strconv.Atoi(strings.TrimSpace(string(raw)))
	return lim, err
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
