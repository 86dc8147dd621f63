"""What a candidate is told before an organization's AI interviews them (Illinois' AI Video Interview Act §5, the EU
AI Act's transparency for high-risk systems, GDPR Art. 13 and 22): the template's own notice, or this one."""

DEFAULT_NOTICE = (
    "This interview is conducted by an AI agent. It speaks with you, and what you say is transcribed. The agent then "
    "writes a report on your answers against the organization's criteria for the role. That report is the AI's "
    "assessment, not a decision: a person at the organization reviews your interview and decides. You may withdraw "
    "your consent at any time, and ask for your interview to be deleted. If the organization records the interview, "
    "you are asked separately, and it is recorded only if you agree."
)
"""Shown for every template without a notice of its own, so no organization's interview starts unannounced."""


def notice_of(template_notice: str | None) -> str:
    return template_notice if template_notice else DEFAULT_NOTICE
