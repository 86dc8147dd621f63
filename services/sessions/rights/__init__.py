"""The candidate's rights and the organizations' retention: a candidate deletes one of their interviews
(`deletion`), takes a copy of everything held about them (`export`); a periodic task erases what is past its
organization's retention or `INTERVIEW_RETENTION_DAYS`, and access records past `ACCESS_LOG_RETENTION_DAYS`
(`retention`). One erasure (`erasure_store`) serves them all.

Imports from `interviews`, `agents`, `consents`, `recordings`, `rooms` and `auth`; none imports from here but the
app."""
