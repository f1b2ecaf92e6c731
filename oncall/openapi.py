"""The OpenAPI 3.1 description of the REST API (contract §7), served at /api/openapi.json.

Written by hand from the contract, in one place; a test checks that it names exactly
the routes the app serves under /api.
"""

from __future__ import annotations

from typing import Any

from core.limits import EARLIEST_YEAR, LATEST_YEAR, MAX_ROW_ID
from web.api import MAX_OFFSET, MAX_PAGE_SIZE

ERROR = {"$ref": "#/components/schemas/Error"}
TIME = {"type": "string", "format": "date-time", "description": "ISO 8601 with a UTC offset"}
# A time a client sends: the server refuses years outside these (typing mistakes, and past them
# datetime arithmetic overflows).
TIME_INPUT = {**TIME, "description": f"ISO 8601 with a UTC offset, in the years {EARLIEST_YEAR + 1} to "
                                     f"{LATEST_YEAR - 1}",
              "pattern": r"^(197[1-9]|19[89]\d|20\d\d|21\d\d)-"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
DATE_INPUT = {"type": "string", "format": "date", "pattern": TIME_INPUT["pattern"],
              "description": f"a day like 2026-11-30, in the years {EARLIEST_YEAR + 1} to {LATEST_YEAR - 1}"}
E164 = {"type": "string", "pattern": r"^\+[1-9]\d{1,14}$", "description": "E.164; national numbers are read in PHONE_REGION"}
EVENT = {"type": "object", "properties": {"at": TIME, "kind": {"type": "string"}, "detail": {"type": "string"}}}
PAGE = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 50}},
    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}},
    {"name": "total", "in": "query", "description": "count every matching row into `total`",
     "schema": {"type": "boolean", "default": False}},
]


def _page_of(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
            "more": {"type": "boolean", "description": "a later page has rows"},
            "total": {"type": ["integer", "null"], "description": "rows matching, with `?total=true`; else null"},
        },
    }


def _answer(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    if schema is None:
        return {"description": description}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    reasons = {400: "bad request (JSON, query)", 401: "missing or wrong token", 404: "not found",
               409: "its state does not allow it (the message says why)", 422: "invalid field (the message says which)"}
    return {str(code): _answer(reasons[code], ERROR) for code in (401, *codes)}


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    number = {"name": "number", "in": "path", "required": True, "schema": {"type": "string", "pattern": r"^\d+$"}}
    row = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Support line API",
            "version": "1",
            "description": "Contacts, the 24x7 rotation, overrides, who is on call, organisations and people, "
                           "tickets and the call log. "
                           "Send `Authorization: Bearer <token>` (`flask --app app create-api-token NAME`).",
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/contacts": {
                "get": {"summary": "List contacts", "parameters": PAGE,
                        "responses": {"200": _answer("a page of contacts", _page_of("Contact")), **_errors(400)}},
                "post": {"summary": "Add a contact", "requestBody": _body("ContactInput"),
                         "responses": {"201": _answer("the contact", _ref("Contact")), **_errors(400, 422)}},
            },
            "/api/contacts/{id}": {
                "parameters": [row],
                "get": {"summary": "One contact", "responses": {"200": _answer("the contact", _ref("Contact")), **_errors(404)}},
                "patch": {"summary": "Change a contact", "requestBody": _body("ContactInput"),
                          "responses": {"200": _answer("the contact", _ref("Contact")), **_errors(400, 404, 422)}},
            },
            "/api/rotation": {
                "get": {"summary": "The rotation in force now",
                        "responses": {"200": _answer("the rotation", _ref("Rotation")), **_errors()}},
                "put": {"summary": "Save a new rotation version (from now, or effective_from; never the past)",
                        "requestBody": _body("RotationInput"),
                        "responses": {"200": _answer("the saved rotation", _ref("Rotation")), **_errors(400, 422)}},
            },
            "/api/overrides": {
                "get": {"summary": "Overrides that have not ended (all=1: every one)",
                        "parameters": PAGE + [{"name": "all", "in": "query", "schema": {
                            "type": "string", "enum": ["1", "true", "0", "false"], "default": "false"}}],
                        "responses": {"200": _answer("a page of overrides", _page_of("Override")), **_errors(400)}},
                "post": {"summary": "Put a contact on duty for a while", "requestBody": _body("OverrideInput"),
                         "responses": {"201": _answer("the override", _ref("Override")), **_errors(400, 422)}},
            },
            "/api/overrides/{id}": {
                "parameters": [row],
                "delete": {"summary": "Remove an override that has not started; end one in progress now (its record stays)",
                           "responses": {"204": _answer("removed, or ended now"), **_errors(404, 409)}},
            },
            "/api/oncall": {
                "get": {"summary": "Who is on duty at a time (default now)",
                        "parameters": [{"name": "at", "in": "query", "schema": TIME_INPUT}],
                        "responses": {"200": _answer("who is on duty", _ref("OnCall")), **_errors(400, 422)}},
            },
            "/api/tickets": {
                "get": {"summary": "List tickets, newest first",
                        "parameters": PAGE + [
                            {"name": "status", "in": "query", "description": "several: comma separated or repeated; "
                             "empty: any", "schema": {"type": "string", "enum": ["open", "acknowledged", "resolved", "closed", ""]}},
                            {"name": "severity", "in": "query", "description": "several: comma separated or repeated; "
                             "empty: any", "schema": {"type": "string", "enum": ["critical", "high", "normal", "low", ""]}},
                        ],
                        "responses": {"200": _answer("a page of tickets", _page_of("Ticket")), **_errors(400)}},
                "post": {"summary": "Open a ticket", "requestBody": _body("TicketInput"),
                         "responses": {"201": _answer("the ticket", _ref("Ticket")), **_errors(400, 422)}},
            },
            "/api/tickets/{number}": {
                "parameters": [number],
                "get": {"summary": "One ticket", "responses": {"200": _answer("the ticket", _ref("Ticket")), **_errors(404)}},
                "patch": {"summary": "Change status, severity (recomputes response_due_at from created_at), "
                                     "description or callback number",
                          "requestBody": _body("TicketChange"),
                          "responses": {"200": _answer("the ticket", _ref("Ticket")), **_errors(400, 404, 422)}},
            },
            "/api/tickets/{number}/comments": {
                "parameters": [number],
                "post": {"summary": "Add to the conversation: a public comment is mailed to the requester (and is the "
                                    "first response if none came yet); one that is not is an internal note",
                         "requestBody": _body("CommentInput"),
                         "responses": {"201": _answer("the comment", _ref("Comment")), **_errors(400, 404, 422)}},
            },
            "/api/reports/sla": {
                "get": {"summary": "The SLA report: per week or month of the support time zone and per severity, "
                                   "tickets opened, first responses within target, response-time median and 90th "
                                   "percentile, breaches, resolutions, satisfaction answers; the tickets at risk now",
                        "parameters": [
                            {"name": "group", "in": "query", "schema": {"type": "string", "enum": ["month", "week"],
                                                                         "default": "month"}},
                            {"name": "from", "in": "query", "description": "first day (support time zone); default: "
                             "twelve periods back", "schema": DATE_INPUT},
                            {"name": "to", "in": "query", "description": "last day; default today", "schema": DATE_INPUT},
                            {"name": "organization_id", "in": "query", "description": "one organisation's tickets",
                             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}},
                        ],
                        "responses": {"200": _answer("the report", _ref("SlaReport")), **_errors(400, 404, 422)}},
            },
            "/api/tickets/{number}/scheduled-calls": {
                "parameters": [number],
                "get": {"summary": "A ticket's scheduled calls, soonest first",
                        "responses": {"200": _answer("the calls", {"type": "object", "properties": {
                            "items": {"type": "array", "items": _ref("ScheduledCall")}}}), **_errors(404)}},
                "post": {"summary": "Plan a call with the requester at a local time: the invitations go out by mail "
                                    "(iCalendar), a reminder by text 15 minutes before; at the time the line rings "
                                    "the engineer and puts them through",
                         "requestBody": _body("ScheduledCallInput"),
                         "responses": {"201": _answer("the scheduled call", _ref("ScheduledCall")),
                                       **_errors(400, 404, 422)}},
            },
            "/api/tickets/{number}/scheduled-calls/{call_id}": {
                "parameters": [number, {"name": "call_id", "in": "path", "required": True,
                                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}}],
                "patch": {"summary": "Move a scheduled call: the updated invitations go out",
                          "requestBody": _body("ScheduledCallChange"),
                          "responses": {"200": _answer("the scheduled call", _ref("ScheduledCall")),
                                        **_errors(400, 404, 422)}},
                "delete": {"summary": "Call off a scheduled call: the cancellations go out",
                           "responses": {"200": _answer("the cancelled call", _ref("ScheduledCall")),
                                         **_errors(404, 422)}},
            },
            "/api/notifications": {
                "get": {"summary": "Every message the line sent or will send, newest first",
                        "parameters": PAGE + [{"name": "ticket", "in": "query", "schema": {"type": "string", "pattern": r"^\d+$"}}],
                        "responses": {"200": _answer("a page of notifications", _page_of("Notification")), **_errors(400, 404)}},
            },
            "/api/calls": {
                "get": {"summary": "The call log, newest first", "parameters": PAGE,
                        "responses": {"200": _answer("a page of calls", _page_of("Call")), **_errors(400)}},
            },
            "/api/calls/{call_sid}": {
                "parameters": [{"name": "call_sid", "in": "path", "required": True, "schema": {"type": "string"}}],
                "get": {"summary": "One call with every step", "responses": {"200": _answer("the call", _ref("Call")), **_errors(404)}},
            },
            "/api/organizations": {
                "get": {"summary": "List organisations (customers and partners)", "parameters": PAGE,
                        "responses": {"200": _answer("a page of organisations", _page_of("Organization")), **_errors(400)}},
                "post": {"summary": "Add an organisation", "requestBody": _body("OrganizationInput"),
                         "responses": {"201": _answer("the organisation", _ref("Organization")), **_errors(400, 422)}},
            },
            "/api/organizations/{id}": {
                "parameters": [row],
                "get": {"summary": "One organisation",
                        "responses": {"200": _answer("the organisation", _ref("Organization")), **_errors(404)}},
                "patch": {"summary": "Change or deactivate an organisation", "requestBody": _body("OrganizationInput"),
                          "responses": {"200": _answer("the organisation", _ref("Organization")),
                                        **_errors(400, 404, 409, 422)}},
            },
            "/api/people": {
                "get": {"summary": "List people", "parameters": PAGE,
                        "responses": {"200": _answer("a page of people", _page_of("Person")), **_errors(400)}},
                "post": {"summary": "Add a person", "requestBody": _body("PersonInput"),
                         "responses": {"201": _answer("the person", _ref("Person")), **_errors(400, 422)}},
            },
            "/api/people/{id}": {
                "parameters": [row],
                "get": {"summary": "One person", "responses": {"200": _answer("the person", _ref("Person")), **_errors(404)}},
                "patch": {"summary": "Change or deactivate a person", "requestBody": _body("PersonInput"),
                          "responses": {"200": _answer("the person", _ref("Person")), **_errors(400, 404, 422)}},
            },
            "/api/openapi.json": {
                "get": {"summary": "This document", "security": [], "responses": {"200": _answer("OpenAPI 3.1", {"type": "object"})}},
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
                "Contact": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "name": {"type": "string"}, "phone": E164,
                    "email": {"type": ["string", "null"]}, "active": {"type": "boolean"},
                    "calendar_url": {"type": "string", "format": "uri", "readOnly": True}}},
                "ContactInput": {"type": "object", "additionalProperties": False, "properties": {
                    "name": {"type": "string", "maxLength": 120}, "phone": {"type": "string"},
                    "email": {"type": ["string", "null"]}, "active": {"type": "boolean"}}},
                "Organization": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "name": {"type": "string"},
                    "kind": {"type": "string", "enum": ["customer", "partner"]},
                    "partner_id": {"type": ["integer", "null"], "description": "the partner managing this customer"},
                    "active": {"type": "boolean"}}},
                "OrganizationInput": {"type": "object", "additionalProperties": False, "properties": {
                    "name": {"type": "string", "maxLength": 200},
                    "kind": {"type": "string", "enum": ["customer", "partner"], "description": "required to add one"},
                    "partner_id": {"type": ["integer", "null"]}, "active": {"type": "boolean"}}},
                "Person": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "name": {"type": "string"}, "email": {"type": ["string", "null"]},
                    "phone": {"oneOf": [E164, {"type": "null"}]}, "organization_id": {"type": ["integer", "null"]},
                    "organization_admin": {"type": "boolean",
                                           "description": "sees every ticket of the organisation on the portal"},
                    "active": {"type": "boolean"}}},
                "PersonInput": {"type": "object", "additionalProperties": False,
                                "description": "a person needs an e-mail address or a phone number", "properties": {
                    "name": {"type": "string", "maxLength": 120}, "email": {"type": ["string", "null"]},
                    "phone": {"type": ["string", "null"]}, "organization_id": {"type": ["integer", "null"]},
                    "organization_admin": {"type": "boolean"}, "active": {"type": "boolean"}}},
                "Shift": {"oneOf": [{"type": "string", "enum": ["daily", "weekly"]},
                                    {"type": "object", "required": ["hours"], "properties": {"hours": {"type": "integer", "minimum": 1}}}]},
                "Rotation": {"type": "object", "properties": {
                    "timezone": {"type": ["string", "null"]},
                    "handoff": {"type": ["string", "null"], "description": "local wall time YYYY-MM-DDTHH:MM"},
                    "shift": _ref("Shift"), "members": {"type": "array", "items": {"type": "integer"}},
                    "backups": {"type": "integer"}, "effective_from": NULLABLE_TIME,
                    "calendar_url": {"type": "string", "format": "uri", "readOnly": True}}},
                "RotationInput": {"type": "object", "required": ["timezone", "handoff", "shift", "members"],
                                  "additionalProperties": False, "properties": {
                    "timezone": {"type": "string"}, "handoff": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d$"},
                    "shift": _ref("Shift"), "members": {"type": "array", "items": {"type": "integer"}},
                    "backups": {"type": "integer", "minimum": 0, "maximum": 10}, "effective_from": TIME_INPUT,
                    "calendar_url": {"type": "string", "description": "ignored (read-only), so a GET's answer may be sent back"}}},
                "Override": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "contact_id": {"type": "integer"}, "start": TIME, "end": TIME}},
                "OverrideInput": {"type": "object", "required": ["contact_id", "start", "end"],
                                  "additionalProperties": False, "properties": {
                    "contact_id": {"type": "integer"}, "start": TIME_INPUT, "end": TIME_INPUT}},
                "Member": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "name": {"type": "string"}, "phone": E164,
                    "email": {"type": ["string", "null"]}, "active": {"type": "boolean"}}},
                "OnCall": {"type": "object", "properties": {
                    "at": TIME, "on_duty": {"oneOf": [_ref("Member"), {"type": "null"}]},
                    "escalation": {"type": "array", "items": _ref("Member")},
                    "shift_start": {**NULLABLE_TIME, "description": "when the person on duty came on (the last change of person)"},
                    "shift_end": {**NULLABLE_TIME, "description": "the next instant the person on duty changes, whatever causes it"},
                    "override": {"type": "boolean"},
                    "next": {"oneOf": [_ref("Member"), {"type": "null"}],
                             "description": "who takes over at shift_end: a different person (null: nobody, or no change ahead)"}}},
                "Ticket": {"type": "object", "properties": {
                    "number": {"type": "integer"},
                    "severity": {"type": "string", "enum": ["critical", "high", "normal", "low"]},
                    "status": {"type": "string", "enum": ["open", "acknowledged", "resolved", "closed"]},
                    "source": {"type": "string", "enum": ["phone", "web", "api", "email"]},
                    "caller_number": {"type": ["string", "null"]}, "callback_number": {"type": ["string", "null"]},
                    "description": {"type": ["string", "null"]}, "created_at": TIME, "response_due_at": TIME,
                    "first_response_at": NULLABLE_TIME, "responded_by": {"type": ["string", "null"]},
                    "resolved_at": NULLABLE_TIME, "call_sid": {"type": ["string", "null"]},
                    "recording_url": {"type": ["string", "null"]}, "transcript": {"type": ["string", "null"]},
                    "requester": {"oneOf": [_ref("Person"), {"type": "null"}],
                                  "description": "the known person who asked (a caller recognised by their number)"},
                    "organization_id": {"type": ["integer", "null"], "description": "the requester's organisation"},
                    "reported_severity": {"type": ["string", "null"], "enum": ["critical", "high", "normal", "low", None],
                                          "description": "what the customer chose or wrote; severity is support's"},
                    "subject": {"type": ["string", "null"], "description": "an e-mail ticket's subject"},
                    "satisfaction": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {
                        "answer": {"type": "string", "enum": ["yes", "no"]},
                        "comment": {"type": ["string", "null"]}, "at": TIME}}],
                        "description": "the requester's answer: resolved to their satisfaction?"},
                    "comments": {"type": "array", "items": _ref("Comment"),
                                 "description": "the conversation, oldest first, whatever channel each came by: "
                                                "the call that opened the ticket (with its voicemail), the "
                                                "comments, and the line's own mails (author `support`)"},
                    "events": {"type": "array", "items": EVENT}}},
                "CommentInput": {"type": "object", "required": ["body"], "additionalProperties": False, "properties": {
                    "body": {"type": "string", "minLength": 1, "maxLength": 2000},
                    "public": {"type": "boolean", "default": False}}},
                "Comment": {"type": "object", "properties": {
                    "at": TIME, "author": {"type": "string"},
                    "channel": {"type": "string", "enum": ["phone", "email", "web", "api", "sms"]},
                    "public": {"type": "boolean"}, "body": {"type": "string"},
                    "attachments": {"type": "array", "items": {"type": "object", "properties": {
                        "id": {"type": "integer"}, "filename": {"type": "string"},
                        "content_type": {"type": "string"}, "size": {"type": "integer"}}}}}},
                "TicketInput": {"type": "object", "required": ["severity"], "additionalProperties": False, "properties": {
                    "severity": {"type": "string", "enum": ["critical", "high", "normal", "low"]},
                    "description": {"type": ["string", "null"]},
                    "caller_number": {"type": ["string", "null"], "description": "empty or null: none"},
                    "callback_number": {"type": ["string", "null"], "description": "empty or null: none"}}},
                "TicketChange": {"type": "object", "additionalProperties": False, "properties": {
                    "status": {"type": "string", "enum": ["open", "acknowledged", "resolved", "closed"]},
                    "severity": {"type": "string", "enum": ["critical", "high", "normal", "low"]},
                    "description": {"type": "string"}, "callback_number": {"type": ["string", "null"]},
                    "reason": {"type": ["string", "null"], "maxLength": 2000,
                               "description": "why the severity changes, told to the requester"}}},
                "Notification": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "ticket": {"type": ["integer", "null"]},
                    "to": {"type": "string", "description": "E.164, or an e-mail's address"},
                    "channel": {"type": "string", "enum": ["sms", "call", "email"]},
                    "kind": {"type": "string", "enum": ["new_ticket", "missed_call", "voicemail", "sla_50", "sla_80",
                                                       "sla_breach", "callback", "acknowledgement", "reply", "status",
                                                       "reopened", "sign_in", "invitation", "call_reminder",
                                                       "call_missed", "scheduled_call"]},
                    "status": {"type": "string", "enum": ["pending", "sent", "failed"]},
                    "attempts": {"type": "integer"}, "body": {"type": "string"}, "created_at": TIME,
                    "sent_at": NULLABLE_TIME, "provider_sid": {"type": ["string", "null"]}}},
                "ScheduledCallInput": {"type": "object", "required": ["contact_id", "local_time", "timezone"],
                                       "additionalProperties": False, "properties": {
                    "contact_id": {"type": "integer", "description": "the engineer (an active contact with a phone)"},
                    "local_time": {"type": "string", "pattern": r"^(197[1-9]|19[89]\d|20\d\d|21\d\d)-\d\d-\d\dT\d\d:\d\d$",
                                   "description": "a wall time in `timezone`, such as 2026-12-10T09:00"},
                    "timezone": {"type": "string", "description": "an IANA zone: the requester's or the engineer's"},
                    "minutes": {"type": "integer", "minimum": 5, "maximum": 480, "default": 30},
                    "phone": {**E164, "description": "who is called; default the ticket's callback number, then "
                                                    "the requester's phone"}}},
                "ScheduledCallChange": {"type": "object", "additionalProperties": False, "properties": {
                    "local_time": {"type": "string", "pattern": r"^(197[1-9]|19[89]\d|20\d\d|21\d\d)-\d\d-\d\dT\d\d:\d\d$",
                                   "description": "a wall time in `timezone`, such as 2026-12-10T09:00"},
                    "timezone": {"type": "string"},
                    "minutes": {"type": "integer", "minimum": 5, "maximum": 480}}},
                "ScheduledCall": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "ticket": {"type": "integer"}, "contact_id": {"type": "integer"},
                    "engineer": {"type": "string"}, "phone": {"type": "string"}, "starts_at": TIME,
                    "local_time": {"type": "string"}, "timezone": {"type": "string"}, "minutes": {"type": "integer"},
                    "status": {"type": "string", "enum": ["scheduled", "ringing", "connecting", "connected",
                                                         "not_connected", "cancelled"]},
                    "sequence": {"type": "integer", "description": "the invitation's iCalendar SEQUENCE"},
                    "reminded_at": NULLABLE_TIME}},
                "SlaFigures": {"type": "object", "properties": {
                    **{name: {"type": "integer"} for name in (
                        "opened", "answered", "within_target", "answered_late", "unanswered_past_due", "breaches",
                        "waiting", "resolved", "satisfied", "dissatisfied")},
                    "within_target_share": {"type": ["number", "null"], "description": "within target over within "
                                            "plus breaches; null when none is decided"},
                    "median_first_response_seconds": {"type": ["integer", "null"]},
                    "p90_first_response_seconds": {"type": ["integer", "null"]}}},
                "SlaReport": {"type": "object", "properties": {
                    "group": {"type": "string", "enum": ["month", "week"]}, "from": {"type": "string", "format": "date"},
                    "to": {"type": "string", "format": "date"}, "organization_id": {"type": ["integer", "null"]},
                    "timezone": {"type": "string"},
                    "as_of": {**NULLABLE_TIME, "description": "when the worker last computed the figures"},
                    "now": TIME,
                    "periods": {"type": "array", "items": {"type": "object", "properties": {
                        "start": {"type": "string", "format": "date"},
                        "end": {"type": "string", "format": "date", "description": "the next period's first day"},
                        "severities": {"type": "object", "properties": {
                            severity: _ref("SlaFigures") for severity in ("critical", "high", "normal", "low", "all")}}}}},
                    "at_risk": {"type": "array", "items": _ref("ListedTicket")},
                    "breaches": {"type": "object", "properties": {
                        "total": {"type": "integer"}, "newest": {"type": "array", "items": _ref("ListedTicket")}}}}},
                "ListedTicket": {"type": "object", "properties": {
                    "number": {"type": "integer"}, "severity": {"type": "string"}, "status": {"type": "string"},
                    "created_at": TIME, "response_due_at": TIME, "first_response_at": NULLABLE_TIME,
                    "url": {"type": "string"}}},
                "Call": {"type": "object", "properties": {
                    "call_sid": {"type": "string"}, "from": {"type": ["string", "null"]}, "to": {"type": ["string", "null"]},
                    "status": {"type": "string"}, "started_at": TIME, "ended_at": NULLABLE_TIME,
                    "duration": {"type": ["integer", "null"]}, "ticket": {"type": ["integer", "null"]},
                    "answered_by": {"type": ["object", "null"], "required": ["id", "name", "phone"], "properties": {
                        "id": {"type": ["integer", "null"], "description": "the contact; null for the fallback "
                                                                           "number or a customer called back"},
                        "name": {"type": "string"}, "phone": {"type": ["string", "null"]}}},
                    "outcome": {"type": ["string", "null"],
                                "enum": ["connected", "voicemail", "missed", "status_lookup", "abandoned", "fallback", None]},
                    "events": {"type": "array", "items": EVENT}}},
            },
        },
    }


def query_parameters() -> dict[tuple[str, str], frozenset[str]]:
    """The query parameters each call takes, by path and method, as this document states them."""
    taken = {}
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                names = [p["name"] for p in [*item.get("parameters", []), *operation.get("parameters", [])]
                         if p["in"] == "query"]
                taken[(path, method.upper())] = frozenset(names)
    return taken
