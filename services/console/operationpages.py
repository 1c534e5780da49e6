"""The operations pages: the queues, the dead letters (inspect, replay, discard), a mail's trace, the
loop breakers, the addresses flagged as failing, and the people (users and API tokens).

Who may see what is the application layer's rule, as in the API: the queues, the dead letters and
the people are for admins; the trace, the breakers and the failing addresses are for every signed-in
person, and changing a breaker or a flag is for admins. Each form runs one application-layer
function in its own unit of work and redirects back with what was done (post/redirect/get); the one
exception is a new API token, shown once on the page that answers the form and never again."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response

from services.app import breakers, contacts, queues, tokens, traces, users
from services.app.errors import AppError
from services.console.pages import PageRoute, Signed, Visit, see_other
from shared.broker.topology import CONSUMERS
from shared.service import topology_from

router = APIRouter(route_class=PageRoute, include_in_schema=False)
REFRESH = "every 5s"  # how often the queues table asks again
BASE = "/operations"


def _done(path: str, what: str) -> Response:
    from urllib.parse import urlencode

    return see_other(f"{path}?{urlencode({'done': what})}")


def _queues(visit: Visit) -> queues.Snapshot:
    settings = visit.ctx.settings
    return queues.snapshot(settings.amqp_url, topology_from(settings), settings.rabbitmq_management_url or None)


@router.get(BASE)
def operations_home(visit: Signed) -> Response:
    return see_other(f"{BASE}/queues" if visit.actor.is_admin else f"{BASE}/breakers")


@router.get(f"{BASE}/queues")
def queue_page(visit: Signed, part: str = "") -> HTMLResponse:
    visit.actor.require_admin("the queues")
    try:
        snapshot, problem = _queues(visit), ""
    except Exception as exc:  # noqa: BLE001 - the broker away is what this page must say, not a stack trace
        snapshot, problem = None, f"RabbitMQ did not answer ({type(exc).__name__})"
    name = "_queues_table.html" if part == "table" else "queues.html"
    return visit.render(name, snapshot=snapshot, problem=problem, every=REFRESH, section="queues")


@router.get(f"{BASE}/dead-letters")
def dead_letter_list(visit: Signed, stage: str = "", done: str = "") -> HTMLResponse:
    letters = visit.ctx.dead_letters.letters(visit.actor, stage or None)
    return visit.render("deadletters.html", letters=letters, stage=stage, stages=list(CONSUMERS), done=done,
                        section="dead-letters")


@router.get(f"{BASE}/dead-letters/{{ident}}")
def dead_letter_page(visit: Signed, ident: str) -> HTMLResponse:
    info, _ = visit.ctx.dead_letters.show(visit.actor, ident)
    return visit.render("deadletter.html", letter=info, section="dead-letters")


@router.post(f"{BASE}/dead-letters/{{ident}}/replay")
def replay(visit: Signed, ident: str) -> Response:
    [(letter, queue)] = visit.ctx.dead_letters.replay(visit.actor, ident)
    return _done(f"{BASE}/dead-letters", f"{letter} went back to {queue}")


@router.post(f"{BASE}/dead-letters/{{ident}}/discard")
def discard(visit: Signed, ident: str) -> Response:
    letter = visit.ctx.dead_letters.discard(visit.actor, ident)
    return _done(f"{BASE}/dead-letters", f"{letter} discarded (its raw mail stays stored)")


@router.get(f"{BASE}/mails/{{mail_id}}")
def trace_page(visit: Signed, mail_id: int) -> HTMLResponse:
    with visit.unit() as session:
        trace = traces.mail_trace(session, mail_id)
    return visit.render("trace.html", trace=trace, section="")


@router.get(f"{BASE}/breakers")
def breaker_page(visit: Signed, done: str = "") -> HTMLResponse:
    with visit.unit() as session:
        found = breakers.list_breakers(session, visit.actor)
    return visit.render("breakers.html", breakers=found, done=done, section="breakers")


@router.post(f"{BASE}/breakers/reset")
def reset_breaker(visit: Signed, account: Annotated[str, Form()], scope: Annotated[str, Form()],
                  key: Annotated[str, Form()] = "") -> Response:
    with visit.unit() as session:
        was = breakers.reset_key(session, visit.actor, account, scope, key)
    return _done(f"{BASE}/breakers", f"the breaker for {was['target']} in {was['account']} is reset")


@router.get(f"{BASE}/contacts")
def contact_page(visit: Signed, done: str = "") -> HTMLResponse:
    with visit.unit() as session:
        found = contacts.failing_contacts(session, visit.actor)
    return visit.render("contacts.html", contacts=found, done=done, section="contacts")


@router.post(f"{BASE}/contacts/clear")
def clear_contact(visit: Signed, address: Annotated[str, Form()]) -> Response:
    with visit.unit() as session:
        contacts.clear_failing(session, visit.actor, address)
    return _done(f"{BASE}/contacts", f"{address} is no longer flagged: mail goes to it again")


def _people(visit: Visit, status: int = 200, *, done: str = "", new_token: str = "", error: AppError | None = None,
            form: str = "", typed: dict[str, str] | None = None) -> HTMLResponse:
    visit.actor.require_admin("users and API tokens")
    with visit.unit() as session:
        people = [asdict(u) for u in users.list_users(session)]
        issued = [asdict(t) for t in tokens.list_tokens(session, visit.actor)]
    return visit.render("people.html", status, users=people, tokens=issued, done=done, new_token=new_token,
                        error=error, form=form, typed=typed or {}, section="people")


@router.get(f"{BASE}/people")
def people_page(visit: Signed, done: str = "") -> HTMLResponse:
    return _people(visit, done=done)


@router.post(f"{BASE}/people/users")
def add_user(visit: Signed, email: Annotated[str, Form()], password: Annotated[str, Form()],
             role: Annotated[str, Form()] = "agent", name: Annotated[str, Form()] = "") -> Response:
    visit.actor.require_admin("adding a user")
    try:
        with visit.unit() as session:
            added = users.add_user(session, email, name=name, role=role, password=password)
    except AppError as exc:  # the password is never typed back into the page
        return _people(visit, exc.status, error=exc, form="user", typed={"email": email, "name": name, "role": role})
    return _done(f"{BASE}/people", f"{added.email} can sign in as {added.role}")


@router.post(f"{BASE}/people/users/disable")
def disable_user(visit: Signed, email: Annotated[str, Form()]) -> Response:
    visit.actor.require_admin("disabling a user")
    with visit.unit() as session:
        users.disable_user(session, email)
    return _done(f"{BASE}/people", f"{email} is disabled: their sessions and tokens stop working")


@router.post(f"{BASE}/people/tokens")
def create_token(visit: Signed, email: Annotated[str, Form()], name: Annotated[str, Form()]) -> Response:
    try:
        with visit.unit() as session:
            view, secret = tokens.create_token(session, visit.actor, email, name)
    except AppError as exc:
        return _people(visit, exc.status, error=exc, form="token", typed={"token_email": email, "token_name": name})
    response = _people(visit, done=f"token {view.name!r} for {view.user} created", new_token=secret)
    return response


@router.post(f"{BASE}/people/tokens/{{token_id}}/revoke")
def revoke_token(visit: Signed, token_id: int) -> Response:
    with visit.unit() as session:
        view = tokens.revoke_token(session, visit.actor, token_id)
    return _done(f"{BASE}/people", f"token {view.name!r} of {view.user} revoked")
