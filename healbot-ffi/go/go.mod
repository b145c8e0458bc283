module healbot.dev/healbot-go

go 1.22
