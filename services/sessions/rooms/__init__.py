"""LiveKit's side of an interview: its room's name, LiveKit's webhooks and what they do to interviews (`events`),
the RoomService client (`room_service`), removals of users who may no longer be in a room, and the reconciler that
checks interviews against the rooms LiveKit has. A consenting candidate's join queues their recording, and egress
webhooks are handed to `recordings`.

Imports from `recordings` alone; `agents`, `users`, `interviews` and `organizations` import from here."""
