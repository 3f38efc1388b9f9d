// alert-receiver: records Alertmanager webhook notifications and shows them over HTTP, for tests.
//
//	POST   /hook/{name}      a webhook notification (Alertmanager's JSON); recorded with the hook name
//	POST   /                 same, hook name "default"
//	GET    /notifications    every recorded notification, oldest first, as a JSON array;
//	                         filters: ?hook=NAME  ?receiver=NAME  ?alertname=NAME  ?since=RFC3339
//	DELETE /notifications    forget everything (tests start from a clean slate)
//	GET    /healthz          "ok"
//
// Only the newest --max-notifications are kept, so a noisy rule cannot exhaust memory.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

var version = "dev" // set with -ldflags "-X main.version=..."

type alert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    string            `json:"startsAt"`
	EndsAt      string            `json:"endsAt"`
	Fingerprint string            `json:"fingerprint"`
}

// payload is the subset of Alertmanager's webhook body the filters need; the raw body is kept too.
type payload struct {
	Receiver    string            `json:"receiver"`
	Status      string            `json:"status"`
	GroupLabels map[string]string `json:"groupLabels"`
	Alerts      []alert           `json:"alerts"`
}

type notification struct {
	Seq        int64           `json:"seq"`
	ReceivedAt time.Time       `json:"received_at"`
	Hook       string          `json:"hook"`
	Receiver   string          `json:"receiver"`
	Status     string          `json:"status"`
	Alerts     []alert         `json:"alerts"`
	Body       json.RawMessage `json:"body"`
}

type store struct {
	mu    sync.Mutex
	seq   int64
	items []notification
	max   int
}

func (s *store) add(n notification) notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	n.Seq = s.seq
	s.items = append(s.items, n)
	if len(s.items) > s.max {
		s.items = append([]notification(nil), s.items[len(s.items)-s.max:]...)
	}
	return n
}

func (s *store) list(match func(notification) bool) []notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []notification{}
	for _, n := range s.items {
		if match(n) {
			out = append(out, n)
		}
	}
	return out
}

func (s *store) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items = nil
}

func main() {
	listen := flag.String("listen", ":8080", "address to serve on")
	maxN := flag.Int("max-notifications", 1000, "how many notifications to keep")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("alert-receiver, version " + version)
		return
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	st := &store{max: *maxN}
	srv := &http.Server{Addr: *listen, Handler: routes(st, log), ReadHeaderTimeout: 5 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Info("listening", "addr", *listen, "version", version)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("serve failed", "error", err.Error())
		os.Exit(1)
	}
}

func routes(st *store, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	record := func(w http.ResponseWriter, r *http.Request, hook string) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		var p payload
		if err := json.Unmarshal(body, &p); err != nil {
			http.Error(w, "body is not JSON: "+err.Error(), http.StatusBadRequest)
			return
		}
		n := st.add(notification{
			ReceivedAt: time.Now().UTC(), Hook: hook, Receiver: p.Receiver, Status: p.Status,
			Alerts: p.Alerts, Body: json.RawMessage(body),
		})
		names := make([]string, 0, len(p.Alerts))
		for _, a := range p.Alerts {
			names = append(names, a.Labels["alertname"])
		}
		log.Info("notification", "seq", n.Seq, "hook", hook, "receiver", p.Receiver, "status", p.Status, "alerts", names)
		w.WriteHeader(http.StatusOK)
	}
	mux.HandleFunc("POST /hook/{name}", func(w http.ResponseWriter, r *http.Request) {
		record(w, r, r.PathValue("name"))
	})
	mux.HandleFunc("POST /{$}", func(w http.ResponseWriter, r *http.Request) { record(w, r, "default") })
	mux.HandleFunc("GET /notifications", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var since time.Time
		if s := q.Get("since"); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				http.Error(w, "since: not RFC3339: "+err.Error(), http.StatusBadRequest)
				return
			}
			since = t
		}
		items := st.list(func(n notification) bool {
			if h := q.Get("hook"); h != "" && n.Hook != h {
				return false
			}
			if rc := q.Get("receiver"); rc != "" && n.Receiver != rc {
				return false
			}
			if !since.IsZero() && n.ReceivedAt.Before(since) {
				return false
			}
			if name := q.Get("alertname"); name != "" {
				for _, a := range n.Alerts {
					if a.Labels["alertname"] == name {
						return true
					}
				}
				return false
			}
			return true
		})
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(items)
	})
	mux.HandleFunc("DELETE /notifications", func(w http.ResponseWriter, _ *http.Request) {
		st.clear()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	return mux
}
