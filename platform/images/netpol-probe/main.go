// netpol-probe: the NetworkPolicy test workload, in the spirit of agnhost's serve-hostname/connect.
//
//	netpol-probe serve [--tcp 80,81] [--udp 80,81] [--sctp 80]
//	    listens on every given port; each accepted TCP/SCTP connection and each UDP datagram
//	    is answered with the pod's hostname and a newline.
//	netpol-probe connect [--timeout 1s] [--protocol tcp] TARGET...
//	    TARGET is HOST:PORT or PROTO://HOST:PORT; all targets are tried concurrently and each
//	    prints one JSON line {"target","protocol","result","peer","error","elapsed_ms"}.
//	    result is connected | timeout | refused | unsupported | error. Exit 0 when all connected, 1 otherwise,
//	    2 on bad usage.
//
// TCP and SCTP count as "connected" once the handshake completes (any server will do; the
// hostname line of a netpol-probe server is recorded when it arrives). UDP has no handshake, so
// it counts only when an answer arrives: UDP targets should be netpol-probe servers (or DNS).
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "serve":
		os.Exit(serve(os.Args[2:]))
	case "connect":
		os.Exit(connect(os.Args[2:]))
	case "version", "--version":
		fmt.Println("netpol-probe, version " + version)
	default:
		usage()
	}
}

var version = "dev" // set with -ldflags "-X main.version=..."

func usage() {
	fmt.Fprintln(os.Stderr, "usage: netpol-probe serve [--tcp PORTS] [--udp PORTS] [--sctp PORTS]\n"+
		"       netpol-probe connect [--timeout 1s] [--protocol tcp|udp|sctp] HOST:PORT|PROTO://HOST:PORT ...")
	os.Exit(2)
}

func parsePorts(s string) ([]int, error) {
	var ports []int
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("bad port %q", p)
		}
		ports = append(ports, n)
	}
	return ports, nil
}

func logJSON(fields map[string]any) {
	fields["time"] = time.Now().UTC().Format(time.RFC3339Nano)
	line, _ := json.Marshal(fields)
	fmt.Println(string(line))
}

func serve(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	tcp := fs.String("tcp", "", "comma-separated TCP ports")
	udp := fs.String("udp", "", "comma-separated UDP ports")
	sctp := fs.String("sctp", "", "comma-separated SCTP ports")
	_ = fs.Parse(args)
	hostname, _ := os.Hostname()
	answer := []byte(hostname + "\n")
	listening := 0
	for proto, spec := range map[string]string{"tcp": *tcp, "udp": *udp, "sctp": *sctp} {
		ports, err := parsePorts(spec)
		if err != nil {
			fmt.Fprintf(os.Stderr, "netpol-probe serve: --%s: %v\n", proto, err)
			return 2
		}
		for _, port := range ports {
			var err error
			switch proto {
			case "tcp":
				err = serveStream("tcp", port, answer)
			case "udp":
				err = serveUDP(port, answer)
			case "sctp":
				err = serveSCTP(port, answer)
			}
			if err != nil {
				// Keep serving the other ports: a kernel without SCTP must not take TCP/UDP down.
				logJSON(map[string]any{"event": "listen_failed", "protocol": proto, "port": port, "error": err.Error()})
				continue
			}
			listening++
			logJSON(map[string]any{"event": "listening", "protocol": proto, "port": port})
		}
	}
	if listening == 0 {
		fmt.Fprintln(os.Stderr, "netpol-probe serve: nothing to serve (give --tcp, --udp or --sctp)")
		return 2
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	return 0
}

func serveStream(network string, port int, answer []byte) error {
	ln, err := net.Listen(network, fmt.Sprintf(":%d", port))
	if err != nil {
		return err
	}
	go acceptLoop(ln, answer)
	return nil
}

func acceptLoop(ln net.Listener, answer []byte) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		go func(c net.Conn) {
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			_, _ = c.Write(answer)
		}(conn)
	}
}

func serveUDP(port int, answer []byte) error {
	pc, err := net.ListenPacket("udp", fmt.Sprintf(":%d", port))
	if err != nil {
		return err
	}
	go func() {
		buf := make([]byte, 2048)
		for {
			_, addr, err := pc.ReadFrom(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			_, _ = pc.WriteTo(answer, addr)
		}
	}()
	return nil
}

type result struct {
	Target    string  `json:"target"`
	Protocol  string  `json:"protocol"`
	Result    string  `json:"result"`
	Peer      string  `json:"peer,omitempty"`
	Error     string  `json:"error,omitempty"`
	ElapsedMS float64 `json:"elapsed_ms"`
}

func connect(args []string) int {
	fs := flag.NewFlagSet("connect", flag.ExitOnError)
	timeout := fs.Duration("timeout", time.Second, "per-target timeout")
	protocol := fs.String("protocol", "tcp", "protocol for targets given as HOST:PORT")
	_ = fs.Parse(args)
	if fs.NArg() == 0 {
		usage()
	}
	type job struct{ proto, addr, raw string }
	var jobs []job
	for _, raw := range fs.Args() {
		proto, addr := *protocol, raw
		if i := strings.Index(raw, "://"); i >= 0 {
			proto, addr = raw[:i], raw[i+3:]
		}
		proto = strings.ToLower(proto)
		if proto != "tcp" && proto != "udp" && proto != "sctp" {
			fmt.Fprintf(os.Stderr, "netpol-probe connect: unknown protocol %q in %q\n", proto, raw)
			return 2
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			fmt.Fprintf(os.Stderr, "netpol-probe connect: %q is not HOST:PORT\n", addr)
			return 2
		}
		jobs = append(jobs, job{proto, addr, raw})
	}
	results := make([]result, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func(i int, proto, addr string) {
			defer wg.Done()
			results[i] = probe(proto, addr, *timeout)
		}(i, j.proto, j.addr)
	}
	wg.Wait()
	code := 0
	enc := json.NewEncoder(os.Stdout)
	for _, r := range results {
		_ = enc.Encode(r)
		if r.Result != "connected" {
			code = 1
		}
	}
	return code
}

func probe(proto, addr string, timeout time.Duration) result {
	start := time.Now()
	r := result{Target: addr, Protocol: proto}
	var conn net.Conn
	var err error
	switch proto {
	case "sctp":
		conn, err = dialSCTP(addr, timeout)
	default:
		conn, err = net.DialTimeout(proto, addr, timeout)
	}
	if err == nil {
		defer conn.Close()
		if proto == "udp" {
			// No handshake: only an answer proves the datagram got through.
			_ = conn.SetDeadline(start.Add(timeout))
			if _, err = conn.Write([]byte("probe\n")); err == nil {
				buf := make([]byte, 512)
				var n int
				n, err = conn.Read(buf)
				r.Peer = firstLine(buf[:n])
			}
		} else {
			// The handshake completed, so the policy let it through. The hostname line that
			// netpol-probe servers send is a bonus; other servers (the apps) send nothing first.
			wait := min(time.Until(start.Add(timeout)), 500*time.Millisecond)
			_ = conn.SetReadDeadline(time.Now().Add(wait))
			line, _ := bufio.NewReader(conn).ReadString('\n')
			r.Peer = firstLine([]byte(line))
		}
	}
	r.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
	r.Result, r.Error = classify(err)
	return r
}

func firstLine(b []byte) string {
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(line)
}

func classify(err error) (string, string) {
	if err == nil {
		return "connected", ""
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout", err.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused", err.Error()
	case errors.Is(err, syscall.EPROTONOSUPPORT), errors.Is(err, syscall.ESOCKTNOSUPPORT):
		// e.g. SCTP on a kernel without the sctp module: not a policy verdict.
		return "unsupported", err.Error()
	case errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout", err.Error()
	default:
		return "error", err.Error()
	}
}
