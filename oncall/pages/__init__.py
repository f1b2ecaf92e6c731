"""The admin pages for the on-call side: on call now, contacts, rotation, overrides, audit.

Server-rendered for a manager in a hurry on a laptop or a phone: no JavaScript, every
form carries a CSRF token (CSRFProtect, set up by the factory), every change goes through
`oncall.service`, which checks it, audits it as `admin:<username>` and commits it.
A change the service refuses is shown as a message above the form it came from, with a
4xx status, and nothing is saved.

One module per page area; this one holds the blueprint and its URL map. What every admin
page shares (the page template, times, paging, headers) is the shell's, `web.pages`;
logging in is `staff`'s.
"""

from __future__ import annotations

from flask import Blueprint

from core.clock import current_clock
from core.db import db
from core.settings import current_settings
from oncall import service
from oncall.pages import audit, contacts, now, overrides, rotation
from oncall.service import NotFound
from web.pages import missing, protect_pages

bp = Blueprint("oncall", __name__, url_prefix="/admin", template_folder="../templates")
protect_pages(bp)

ID = "<int(max=2147483647):{}>"
ROUTES = (
    ("/", ["GET"], now.oncall_now),
    ("/contacts", ["GET"], contacts.contacts),
    ("/contacts", ["POST"], contacts.add_contact),
    (f"/contacts/{ID.format('contact_id')}", ["GET"], contacts.edit_contact),
    (f"/contacts/{ID.format('contact_id')}", ["POST"], contacts.update_contact),
    (f"/contacts/{ID.format('contact_id')}/active", ["POST"], contacts.set_contact_active),
    (f"/contacts/{ID.format('contact_id')}/feed", ["POST"], contacts.rotate_contact_feed),
    ("/rotation", ["GET"], rotation.rotation),
    ("/rotation", ["POST"], rotation.edit_rotation),
    ("/rotation/feed", ["POST"], rotation.rotate_rotation_feed),
    ("/overrides", ["GET"], overrides.overrides),
    ("/overrides", ["POST"], overrides.add_override),
    (f"/overrides/{ID.format('override_id')}", ["GET"], overrides.edit_override),
    (f"/overrides/{ID.format('override_id')}", ["POST"], overrides.change_override),
    (f"/overrides/{ID.format('override_id')}/end", ["POST"], overrides.end_override),
    (f"/overrides/{ID.format('override_id')}/delete", ["POST"], overrides.delete_override),
    ("/audit", ["GET"], audit.audit_trail),
)
for rule, methods, view in ROUTES:
    bp.add_url_rule(rule, view_func=view, methods=methods)


def rotation_zone_name() -> str:
    """The zone admin pages show times in: the rotation's, else the support time zone (`web.pages.init_app`)."""
    in_force = service.rotation_in_force(db(), current_clock())
    return in_force.timezone if in_force else current_settings().support_timezone


@bp.errorhandler(NotFound)
def _not_found(error: NotFound) -> tuple[str, int]:
    db().rollback()
    return missing(f"{str(error).capitalize()}.")
