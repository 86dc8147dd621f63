"""Who is calling `/api/*`: a Clerk session, proved by its session token (verified locally, never a call to
Clerk per request), from the app's own origins when it comes as a cookie.

Imports from no other domain."""
