package main

import (
	"fmt"
	"net"
	"os"
	"time"

	"github.com/ishidawataru/sctp"
)

// SCTP needs the kernel's sctp module; without it listen/dial fail and the probe reports why.

func serveSCTP(port int, answer []byte) error {
	ln, err := sctp.ListenSCTP("sctp", &sctp.SCTPAddr{Port: port})
	if err != nil {
		return err
	}
	go acceptLoop(ln, answer)
	return nil
}

// dialSCTP bounds the blocking dial: a dropped INIT would otherwise wait for the kernel's retries.
func dialSCTP(addr string, timeout time.Duration) (net.Conn, error) {
	raddr, err := sctp.ResolveSCTPAddr("sctp", addr)
	if err != nil {
		return nil, err
	}
	type dialed struct {
		conn net.Conn
		err  error
	}
	done := make(chan dialed, 1)
	go func() {
		c, err := sctp.DialSCTP("sctp", nil, raddr)
		if err != nil {
			done <- dialed{nil, err}
			return
		}
		done <- dialed{c, nil}
	}()
	select {
	case d := <-done:
		return d.conn, d.err
	case <-time.After(timeout):
		return nil, &net.OpError{Op: "dial", Net: "sctp", Err: fmt.Errorf("i/o timeout: %w", os.ErrDeadlineExceeded)}
	}
}
