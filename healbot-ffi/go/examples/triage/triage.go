package main

import (
	"time"

	healbot "healbot.dev/healbot-go"
)

// triage prints the engine's decisions at a time (once evaluate lands).
func triage(_ *healbot.Engine, _ time.Time) error { return nil }
