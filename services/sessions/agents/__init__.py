"""The dispatched agent's API: its LiveKit token (`auth`), its brief (`briefs`), the transcript and report it writes
(`reports`), and their stores.

Imports from `rooms` (room names) alone; `interviews` and `organizations` read what it stores."""
