"""The lab's server: register every page, then run NiceGUI on localhost."""

from nicegui import app, ui

from learnscope.lab.guard import LabGuard, allowed_hosts
from learnscope.lab.pages import (
    descent,
    draw,
    going_wrong,
    history,
    home,
    inside,
    mnist,
    neurosymbolic,
    one_step,
    playground,
    remedies,
    transfer,
)
from learnscope.lab.state import LabConfig, LabState

PAGES = (home, playground, history, mnist, draw, one_step, descent, going_wrong, remedies, inside, transfer,
         neurosymbolic)
#: Seconds a tab may be out of touch before its page state is dropped (see run_lab)
RECONNECT_TIMEOUT = 20.0


def register_pages(state: LabState) -> None:
    """Add every page's route; each page reads and writes only through `state` and functions below lab/."""
    for page in PAGES:
        page.register(state)


def run_lab(host: str = "127.0.0.1", port: int = 8080, show: bool = True, config: LabConfig | None = None) -> None:
    """Serve the lab until Ctrl-C; show=True opens it in the default browser."""
    state = LabState(config or LabConfig())
    register_pages(state)
    app.add_middleware(LabGuard, hosts=allowed_hosts(host), upload_limit_bytes=state.config.upload_limit_bytes)
    # NOTE: a tab waits this long for a busy server (a training on both cores) before NiceGUI gives up on it and
    # the browser reloads a fresh page: 3 s (the default) lost tabs under load
    ui.run(host=host, port=port, show=show, reload=False, title="learnscope lab", show_welcome_message=True,
           uvicorn_logging_level="warning", reconnect_timeout=RECONNECT_TIMEOUT)
