package bot

import (
	"context"
	"fmt"
)

// Handler turns an event into replies. A handler's return value is its
// answer, so handlers stay pure functions of the event and the small
// interfaces they were built with.
type Handler interface {
	Handle(ctx context.Context, ev *Event) ([]Reply, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, ev *Event) ([]Reply, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, ev *Event) ([]Reply, error) { return f(ctx, ev) }

// Middleware wraps a handler, for example to log, time or guard it.
type Middleware func(Handler) Handler

// Route sends the events it matches to its handler.
type Route struct {
	Name    string
	Match   func(*Event) bool
	Handler Handler
	// BypassGate lets the route run in threads staff own (the takeover and
	// release commands); every other route stays silent there.
	BypassGate bool
	// Spec, when set, makes the route a command that platforms register.
	Spec *CommandSpec
	// Exclusive runs the route alone: the core waits until every other
	// event in progress (handlers and observers) is done and starts no
	// other until it returns. For erasure, so nothing the person wrote is
	// stored after it by a message still being handled.
	Exclusive bool
}

// Router picks the first route that matches an event; when none does, the
// fallback answers. Middleware wraps every route and the fallback, the first
// added outermost.
type Router struct {
	routes     []Route
	fallback   Handler
	middleware []Middleware
}

// NewRouter returns a router whose fallback handles every unmatched event.
func NewRouter(fallback Handler) *Router {
	return &Router{fallback: fallback}
}

// Use adds middleware.
func (r *Router) Use(m ...Middleware) { r.middleware = append(r.middleware, m...) }

// Add appends a route; earlier routes win.
func (r *Router) Add(route Route) {
	if route.Match == nil || route.Handler == nil {
		panic(fmt.Sprintf("bot: route %q needs Match and Handler", route.Name))
	}
	r.routes = append(r.routes, route)
}

// Commands lists the commands of the routes that have a Spec, in order.
func (r *Router) Commands() []CommandSpec {
	var specs []CommandSpec
	for _, route := range r.routes {
		if route.Spec != nil {
			specs = append(specs, *route.Spec)
		}
	}
	return specs
}

// Command is a Match for a command event of that name (slash commands, and
// "/name args" typed in a chat that has no slash commands).
func Command(name string) func(*Event) bool {
	return func(ev *Event) bool { return ev.Kind == KindCommand && ev.Command == name }
}

// Action is a Match for a button click with that action id.
func Action(action string) func(*Event) bool {
	return func(ev *Event) bool { return ev.Kind == KindInteraction && ev.Action == action }
}

// route returns the first matching route, or false for the fallback.
func (r *Router) route(ev *Event) (Route, bool) {
	for _, route := range r.routes {
		if route.Match(ev) {
			return route, true
		}
	}
	return Route{}, false
}

// exclusive reports whether the route that matches ev is Exclusive. Only
// when an Exclusive route matches at all are the routes before it asked
// (the first match wins), so the usual event costs the few Exclusive
// matchers, not every route's (some run regular expressions).
func (r *Router) exclusive(ev *Event) bool {
	for _, route := range r.routes {
		if route.Exclusive && route.Match(ev) {
			first, _ := r.route(ev)
			return first.Exclusive
		}
	}
	return false
}

// Handle routes the event and returns the chosen handler's name with its replies.
func (r *Router) Handle(ctx context.Context, ev *Event) (string, []Reply, error) {
	route, ok := r.route(ev)
	return r.handle(ctx, ev, route, ok)
}

// handle runs the route found for ev (ok), else the fallback.
func (r *Router) handle(ctx context.Context, ev *Event, route Route, ok bool) (string, []Reply, error) {
	name, h := "fallback", r.fallback
	if ok {
		name, h = route.Name, route.Handler
	}
	if h == nil {
		return name, nil, nil
	}
	for i := len(r.middleware) - 1; i >= 0; i-- {
		h = r.middleware[i](h)
	}
	replies, err := h.Handle(ctx, ev)
	return name, replies, err
}
