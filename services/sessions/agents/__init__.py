"""The dispatched agent's API: its LiveKit token (`auth`), its brief (`briefs`), the transcript and report it writes
(`reports`), and their stores.

Imports from `rooms` (room names) and `consents` (the brief carries the consents; no report without the AI
evaluation's); `interviews` and `organizations` read what it stores."""
