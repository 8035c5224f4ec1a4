"""aiohttp application factory: middlewares plus the route tables of each area."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from . import (
    agents_routes,
    answering_routes,
    audit_routes,
    auth_routes,
    calendars_routes,
    callbacks_routes,
    calllog_routes,
    config_routes,
    events_routes,
    health_routes,
    live_routes,
    openapi,
    prompts_routes,
    queues_routes,
    reports_routes,
    schedules_routes,
    security_routes,
    softphone_routes,
    surveys_routes,
    transfer_routes,
    users_routes,
    voicemail_routes,
)
from .auth import token_middleware
from .context import SERVER_KEY
from .errors import error_middleware

if TYPE_CHECKING:
    from vaxel.host import ServerView


def create_app(server: ServerView) -> web.Application:
    app = web.Application(
        middlewares=[error_middleware, token_middleware()],
        client_max_size=6 * 1024 * 1024,  # prompt uploads are limited to 5 MB by the handler
    )
    app[SERVER_KEY] = server
    app.add_routes(health_routes.routes)
    app.add_routes(auth_routes.routes)
    app.add_routes(users_routes.routes)
    app.add_routes(audit_routes.routes)
    app.add_routes(calllog_routes.routes)
    app.add_routes(callbacks_routes.routes)
    prompts_routes.setup(app)
    app.add_routes(calendars_routes.routes)
    app.add_routes(config_routes.routes)
    app.add_routes(agents_routes.routes)
    app.add_routes(queues_routes.routes)
    app.add_routes(schedules_routes.routes)
    app.add_routes(surveys_routes.routes)
    app.add_routes(live_routes.routes)
    app.add_routes(transfer_routes.routes)
    app.add_routes(voicemail_routes.routes)
    app.add_routes(security_routes.routes)
    app.add_routes(reports_routes.routes)
    app.add_routes(answering_routes.routes)
    events_routes.setup(app)
    softphone_routes.setup(app)
    app.add_routes(openapi.routes)
    return app
