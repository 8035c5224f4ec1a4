"""Which action (``access.Action``) each API endpoint needs; the auth middleware enforces it.

One table for the whole API, so the matrix in ``docs/access.md``, the OpenAPI document
(``x-permission``) and the test that walks every role over every endpoint read the same
thing. An endpoint missing here is refused for everyone (and fails that test).
"""

from __future__ import annotations

from access import Action

# Anyone, without a token.
PUBLIC: frozenset[tuple[str, str]] = frozenset(
    {("GET", "/api/health"), ("GET", "/api/openapi.json"), ("POST", "/api/login")}
)

_A = "/api/agents/{agent_id}"
_CO = "/api/companies/{company_id}"
_ST = f"{_CO}/staff/{{staff_id}}"
RULES: dict[tuple[str, str], Action] = {
    # own account
    ("POST", "/api/logout"): Action.SELF,
    ("GET", "/api/me"): Action.SELF,
    ("GET", "/api/me/tokens"): Action.SELF,
    ("POST", "/api/me/tokens"): Action.SELF,
    ("DELETE", "/api/me/tokens/{token_id}"): Action.SELF,
    # the live board
    ("GET", "/api/agents"): Action.VIEW_LIVE,
    ("GET", _A): Action.VIEW_LIVE,
    ("GET", "/api/queues"): Action.VIEW_LIVE,
    ("GET", "/api/queues/{queue_id}"): Action.VIEW_LIVE,
    ("GET", "/api/calendars"): Action.VIEW_LIVE,
    ("GET", "/api/calendars/{id}/status"): Action.VIEW_LIVE,
    ("GET", "/api/calendars/{id}/deviations"): Action.VIEW_LIVE,
    ("GET", "/api/events"): Action.VIEW_LIVE,
    # agent actions (agents: their own agent only)
    ("POST", f"{_A}/login"): Action.ACT_AGENT,
    ("POST", f"{_A}/logout"): Action.ACT_AGENT,
    ("POST", f"{_A}/pause"): Action.ACT_AGENT,
    ("POST", f"{_A}/ready"): Action.ACT_AGENT,
    ("POST", f"{_A}/wrapup_done"): Action.ACT_AGENT,
    # the browser softphone: the page's WebRTC offer and its call-control socket
    ("POST", f"{_A}/webrtc"): Action.ACT_AGENT,
    ("GET", f"{_A}/softphone"): Action.ACT_AGENT,
    ("POST", f"{_A}/dial"): Action.ACT_AGENT,  # click-to-call (docs/outbound.md)
    # an agent's live call (agents: their own calls only), docs/transfers.md
    **{
        ("POST", f"/api/calls/{{call_id}}/{op}"): Action.ACT_AGENT
        for op in ("hold", "resume", "transfer", "consult", "toggle", "complete", "cancel-consult")
    },
    # scheduled logins: anyone on the board sees the plan, admins change it
    ("GET", "/api/schedules"): Action.VIEW_LIVE,
    ("GET", "/api/staffing"): Action.VIEW_LIVE,
    ("POST", "/api/schedules"): Action.CONFIGURE,
    ("DELETE", "/api/schedules/{schedule_id}"): Action.CONFIGURE,
    # reports and wallboards
    ("GET", "/api/reports/{report}"): Action.STATISTICS,
    ("GET", "/api/live/queues"): Action.VIEW_LIVE,
    ("GET", "/api/report-subscriptions"): Action.STATISTICS,
    ("POST", "/api/report-subscriptions"): Action.STATISTICS,
    ("GET", "/api/report-subscriptions/{subscription_id}"): Action.STATISTICS,
    ("PATCH", "/api/report-subscriptions/{subscription_id}"): Action.STATISTICS,
    ("DELETE", "/api/report-subscriptions/{subscription_id}"): Action.STATISTICS,
    # supervision
    ("GET", "/api/calls"): Action.VIEW_CALLS,
    ("GET", "/api/callbacks"): Action.VIEW_CALLS,
    # agents: their own call only (checked in vaxel/services/call_control.py)
    ("POST", "/api/calls/{call_id}/hangup"): Action.ACT_AGENT,
    ("GET", "/api/calllog/events"): Action.STATISTICS,
    ("GET", "/api/calllog/calls"): Action.STATISTICS,
    ("GET", "/api/surveys"): Action.STATISTICS,
    ("GET", "/api/audit"): Action.AUDIT,
    # what callers hear
    ("GET", "/api/prompts"): Action.PROMPTS,
    ("POST", "/api/prompts"): Action.PROMPTS,
    ("GET", "/api/prompts/{name}"): Action.PROMPTS,
    ("DELETE", "/api/prompts/{name}"): Action.PROMPTS,
    ("GET", "/api/prompts/{name}/audio"): Action.PROMPTS,
    ("GET", "/api/queues/{queue}/prompts"): Action.PROMPTS,
    ("PUT", "/api/queues/{queue}/prompts/{slot}"): Action.PROMPTS,
    ("DELETE", "/api/queues/{queue}/prompts/{slot}"): Action.PROMPTS,
    ("GET", "/api/hot-prompts"): Action.PROMPTS,
    ("POST", "/api/hot-prompts"): Action.PROMPTS,
    ("DELETE", "/api/hot-prompts"): Action.PROMPTS,
    # voicemail
    ("GET", "/api/voicemails"): Action.VOICEMAIL,
    ("GET", "/api/voicemails/{id}"): Action.VOICEMAIL,
    ("GET", "/api/voicemails/{id}/audio"): Action.VOICEMAIL,
    ("POST", "/api/voicemails/{id}/resend"): Action.VOICEMAIL,
    # the SIP front door's bans and lockouts (docs/security.md): seen like the audit trail,
    # lifted by admins
    ("GET", "/api/security/bans"): Action.AUDIT,
    ("DELETE", "/api/security/bans/{address}"): Action.CONFIGURE,
    # the configuration at run time (docs/operations.md): admins only (it holds SIP
    # passwords and PINs)
    ("GET", "/api/config/{kind}"): Action.CONFIGURE,
    ("GET", "/api/config/{kind}/{key}"): Action.CONFIGURE,
    ("PUT", "/api/config/{kind}/{key}"): Action.CONFIGURE,
    ("PATCH", "/api/config/{kind}/{key}"): Action.CONFIGURE,
    ("DELETE", "/api/config/{kind}/{key}"): Action.CONFIGURE,
    ("POST", "/api/calendars/{id}/deviations"): Action.CONFIGURE,
    ("DELETE", "/api/calendars/{id}/deviations/{index}"): Action.CONFIGURE,
    # users
    ("GET", "/api/users"): Action.USERS,
    ("POST", "/api/users"): Action.USERS,
    ("GET", "/api/users/{name}"): Action.USERS,
    ("PATCH", "/api/users/{name}"): Action.USERS,
    ("DELETE", "/api/users/{name}"): Action.USERS,
    ("POST", "/api/users/{name}/unlock"): Action.USERS,
    ("GET", "/api/users/{name}/tokens"): Action.USERS,
    ("POST", "/api/users/{name}/tokens"): Action.USERS,
    ("DELETE", "/api/users/{name}/tokens/{token_id}"): Action.USERS,
    # the answering service (docs/answering.md): everyone answering sees companies and takes
    # messages; managers and admins change them; absence notes also by absence-scoped tokens
    ("GET", "/api/companies"): Action.ANSWERING,
    ("GET", _CO): Action.ANSWERING,
    ("GET", "/api/calls/{call_id}/company"): Action.ANSWERING,
    ("POST", f"{_ST}/messages"): Action.ANSWERING,
    ("GET", f"{_ST}/messages"): Action.COMPANIES,
    ("POST", "/api/companies"): Action.COMPANIES,
    ("PATCH", _CO): Action.COMPANIES,
    ("DELETE", _CO): Action.COMPANIES,
    ("POST", f"{_CO}/staff"): Action.COMPANIES,
    ("PATCH", _ST): Action.COMPANIES,
    ("DELETE", _ST): Action.COMPANIES,
    ("PUT", f"{_ST}/absence"): Action.ABSENCE,
    ("DELETE", f"{_ST}/absence"): Action.ABSENCE,
    ("PUT", "/api/absence"): Action.ABSENCE,
}


def rule_for(method: str, path: str) -> Action | None:
    """The action ``method path`` (a route's canonical path) needs; HEAD counts as GET."""
    return RULES.get(("GET" if method == "HEAD" else method, path))
