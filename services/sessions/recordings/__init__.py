"""Recordings, only with the candidate's consent: LiveKit's Egress started by sessions when the consenting candidate
joins (`egress_queue`, from a durable queue), its webhooks applied (`events`), played back through short-lived
presigned links (`playback`), and erased from the bucket, every version, whatever erases their interview
(`deletions`, from a queue written in the erasing transaction).

Imports from no other domain: `rooms`, `consents`, `users`, `interviews` and `organizations` import from here."""
