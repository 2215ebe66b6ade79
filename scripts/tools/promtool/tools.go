//go:build tools

// Package tools pins github.com/prometheus/prometheus/cmd/promtool (Prometheus 3.16.0: the module's
// v0.316.0), which the tests run on the stacks' alerting rules; the installer builds it from this module.
package tools

import _ "github.com/prometheus/prometheus/cmd/promtool"
