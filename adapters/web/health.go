package web

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/einsatz/einsatz/bot"
)

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is not ready while storage cannot write or the core is saturated
// (its queue is full or events wait in storage for room in it), nor while
// Options.Problems names any (in a cluster).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var problems []string
	if err := s.opts.Store.Sync(ctx); err != nil {
		problems = append(problems, "storage not writable: "+err.Error())
	}
	if s.opts.Core.Saturated() {
		problems = append(problems, "event queue saturated")
	}
	if s.opts.Problems != nil {
		problems = append(problems, s.opts.Problems(ctx)...)
	}
	if len(problems) > 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "problems": problems})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func metricsHandler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}

// Metrics counts the core's work for Prometheus; it implements bot.Metrics.
type Metrics struct {
	received *prometheus.CounterVec
	replies  *prometheus.CounterVec
	dropped  *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

// NewMetrics registers the counters on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "einsatz_events_received_total", Help: "Events received from adapters, by platform."}, []string{"platform"}),
		replies:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "einsatz_replies_sent_total", Help: "Replies posted, by platform."}, []string{"platform"}),
		dropped:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "einsatz_events_dropped_total", Help: "Events not handled, by reason."}, []string{"reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "einsatz_handler_duration_seconds", Help: "Time handlers take, by handler.",
			Buckets: []float64{.001, .005, .01, .05, .1, .5, 1, 2.5, 5, 10, 30}}, []string{"handler"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "einsatz_handler_errors_total", Help: "Handler errors, by handler."}, []string{"handler"}),
	}
	reg.MustRegister(m.received, m.replies, m.dropped, m.latency, m.errors)
	return m
}

// WatchCore exports the core's queue depth, whether it is saturated and
// how many events it kept in storage because the queue was full.
func WatchCore(reg prometheus.Registerer, core Core) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "einsatz_queue_depth", Help: "Events waiting in the in-memory queue."},
		func() float64 { return float64(core.Stats().Queued) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "einsatz_saturated", Help: "1 while the queue is full or events wait in storage for room in it (/readyz is 503), else 0."},
			func() float64 {
				if core.Saturated() {
					return 1
				}
				return 0
			}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "einsatz_events_spilled_total", Help: "Events kept in storage because the in-memory queue was full."},
			func() float64 { return float64(core.Stats().Spilled) }))
}

// EventReceived counts an incoming event.
func (m *Metrics) EventReceived(platform string) { m.received.WithLabelValues(platform).Inc() }

// ReplySent counts a posted reply.
func (m *Metrics) ReplySent(platform string) { m.replies.WithLabelValues(platform).Inc() }

// EventDropped counts an event not handled.
func (m *Metrics) EventDropped(reason string) { m.dropped.WithLabelValues(reason).Inc() }

// Handled observes a handler's time and counts its errors.
func (m *Metrics) Handled(handler string, d time.Duration, err error) {
	m.latency.WithLabelValues(handler).Observe(d.Seconds())
	if err != nil {
		m.errors.WithLabelValues(handler).Inc()
	}
}

var _ bot.Metrics = (*Metrics)(nil)
