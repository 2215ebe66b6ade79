//go:build tools

// Package tools pins github.com/versity/versitygw/cmd/versitygw for the local facility; scripts build it from this module.
package tools

import _ "github.com/versity/versitygw/cmd/versitygw"
