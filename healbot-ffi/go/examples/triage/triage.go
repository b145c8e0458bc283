package main

import (
	"fmt"
	"time"

	healbot "healbot.dev/healbot-go"
)

// triage prints the engine's decisions at a time and reports the executions
// the host would run (HealBot itself never runs anything).
func triage(engine *healbot.Engine, at time.Time) error {
	decisions, err := engine.Evaluate(at)
	if err != nil {
		return err
	}
	fmt.Printf("%d decisions at %s\n", len(decisions), at.Format(time.RFC3339))
	for _, d := range decisions {
		sig := "(inferred suspect)"
		if d.Signature != nil {
			sig = d.Signature.ID
		}
		fmt.Printf("- %s on %s: %s, confidence %.2f, root cause %s (%s)\n",
			sig, d.Node, d.Verdict, d.Confidence.Value, d.RootCause.Node, d.RootCause.Role)
		if d.Action != nil {
			fmt.Printf("  action %s: %s %s\n", d.Action.ID, d.Action.Operation, d.Action.Target)
		}
		for _, r := range d.Reasons {
			fmt.Printf("  because %s\n", r)
		}
		if d.Verdict == healbot.Execute && d.Action != nil {
			if _, err := engine.RecordExecution(d.ID, d.Action.ID, d.Action.Target, at, true); err != nil {
				return err
			}
			if _, err := engine.RecordOutcome(d.ID, true, at.Add(time.Minute)); err != nil {
				return err
			}
		}
	}
	return nil
}
