"""Interviews as their candidate starts and reads them: starts and rejoins (`starts`), the connection-details and
LiveKit token endpoints and the candidate's reads (`routes`, `reads`), what a client may ask of the room
(`room_policy`, `participant_fields`), the participant tokens (`participant_tokens`) and the interview store.

Imports from `users` (who may start), `agents` (the report and transcript a candidate reads), `consents` (shown,
and withdrawn), `recordings` (heard), `rooms` (room names) and `auth`; only `organizations` imports from here."""
