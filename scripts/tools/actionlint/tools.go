//go:build tools

// Package tools pins github.com/rhysd/actionlint/cmd/actionlint, the linter scripts/test.sh runs on the GitHub workflows; the installer builds it from this module.
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
