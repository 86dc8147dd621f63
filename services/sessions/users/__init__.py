"""What sessions knows of users: identity's answers (`identity_client`, `known_store`), who may start
(`confirmation`), the changes feeds' follower (`feeds`, `feed_store`) and the users' feed applied (`user_feed`:
erasure of a deleted user, removal of banned and locked ones from their rooms).

Imports from `rooms` (queued removals), `recordings` (a deleted user's recordings erased) and `auth` (the Clerk
session); `interviews` and `organizations` import from
here."""
