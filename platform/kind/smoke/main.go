// smoke: the cluster smoke test's workload and probe in one static binary.
//
//	smoke serve [PORT]            HTTP on PORT (default 8080): "smoke ok <hostname>"
//	smoke connect HOST:PORT [S]   exit 0 if a TCP connection opens within S seconds (default 3)
//	smoke resolve NAME            print the addresses NAME resolves to via the pod's resolv.conf
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: smoke serve [PORT] | connect HOST:PORT [SECONDS] | resolve NAME")
	}
	switch os.Args[1] {
	case "serve":
		port := "8080"
		if len(os.Args) > 2 {
			port = os.Args[2]
		}
		host, _ := os.Hostname()
		http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, "smoke ok %s\n", host)
		})
		fail(http.ListenAndServe(":"+port, nil).Error())
	case "connect":
		if len(os.Args) < 3 {
			fail("connect needs HOST:PORT")
		}
		seconds := 3.0
		if len(os.Args) > 3 {
			if v, err := strconv.ParseFloat(os.Args[3], 64); err == nil {
				seconds = v
			}
		}
		conn, err := net.DialTimeout("tcp", os.Args[2], time.Duration(seconds*float64(time.Second)))
		if err != nil {
			fail("connect " + os.Args[2] + ": " + err.Error())
		}
		conn.Close()
		fmt.Println("connected", os.Args[2])
	case "resolve":
		if len(os.Args) < 3 {
			fail("resolve needs NAME")
		}
		addrs, err := net.LookupHost(os.Args[2])
		if err != nil {
			fail("resolve " + os.Args[2] + ": " + err.Error())
		}
		for _, a := range addrs {
			fmt.Println(a)
		}
	default:
		fail("unknown mode " + os.Args[1])
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(1)
}
