"""Organizations hire with it: recruiters of a Clerk organization write interview templates, invite candidates by
link and review what the agent reported. Every `/api/org/*` route acts on the caller's active organization alone
(`access`); another organization's template, invite or interview is indistinguishable from none (404)."""
