package metrics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// BuildInfo names the running build in tfopcap_build_info.
type BuildInfo struct {
	Version   string // "v0.1.0", a pseudo-version, or "v0.1.0-devel"
	Revision  string // the VCS commit, "" when not stamped
	GoVersion string
}

// NewRegistry returns the registry every endpoint serves: the build, the
// Go runtime and the process, and the given collectors.
func NewRegistry(b BuildInfo, cs ...prometheus.Collector) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	buildInfo := prometheus.NewDesc("tfopcap_build_info",
		"Always 1; the labels name the build.", []string{"version", "revision", "goversion"}, nil)
	build := prometheus.MustNewConstMetric(buildInfo, prometheus.GaugeValue, 1, b.Version, b.Revision, b.GoVersion)
	cs = append([]prometheus.Collector{constCollector{build},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})}, cs...)
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return reg, nil
}

// constCollector collects fixed metrics.
type constCollector []prometheus.Metric

func (c constCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c {
		ch <- m.Desc()
	}
}

func (c constCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c {
		ch <- m
	}
}

// Mux routes /metrics to reg, and the other paths given; / links them.
func Mux(reg prometheus.Gatherer, more map[string]http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	index := `<html><head><title>tfopcap</title></head><body><h1>tfopcap</h1><p><a href="/metrics">/metrics</a></p>`
	for _, path := range slices.Sorted(maps.Keys(more)) {
		mux.Handle(path, more[path])
		index += fmt.Sprintf(`<p><a href="%s">%s</a></p>`, path, path)
	}
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, index+"</body></html>\n")
	})
	return mux
}

// Server is an HTTP endpoint serving until Close.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan error
}

// Listen binds addr at once, so that a port in use is an error before
// the capture starts, and serves h on it.
func Listen(addr string, h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, ln: ln, done: make(chan error, 1)}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the address bound (the port chosen, for ":0").
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close lets scrapes under way finish (up to a second) and stops.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
