"""Staff access: admins and their sessions, API tokens, and the audit trail of who changed what.

Every area's pages use `staff.admins.login_required`, every area's API `staff.tokens.api_token_required`,
and every audited change `staff.audit.audit`. It knows no area.
"""
