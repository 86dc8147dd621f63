"""Organizations hire with it: recruiters of a Clerk organization write interview templates, invite candidates by
link and review what the agent reported. Every `/api/org/*` route acts on the caller's active organization alone
(`access`); another organization's template, invite or interview is indistinguishable from none (404).

Imports from every other domain (`interviews`' starts and tokens, `agents`' reports, `users`, `rooms`, `auth`); none
imports from here but the app."""
