"""The candidate's consent to an organization's AI interview: the notice they read (`notice`), the consents they
give or refuse with an invite's first redemption and may withdraw later (`withdrawal`), append-only rows kept per
invite and candidate (`store`).

Imports from `recordings` (a withdrawn recording is erased); `agents`, `interviews` and `organizations` import from
here."""
