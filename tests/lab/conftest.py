"""The lab's pages in-process: NiceGUI's simulated user (no browser, no server) against the real pages.

`lab` gives a LabState with private store and model folders; `user` opens pages of a lab built from it.
The pages are registered inside NiceGUI's reset context (as NiceGUI's own `user` fixture does with a main
file), so every test gets a fresh app.
"""

import os
from contextlib import asynccontextmanager

import httpx
import pytest
from nicegui import core, ui
from nicegui.functions.download import download
from nicegui.functions.navigate import Navigate
from nicegui.functions.notify import notify
from nicegui.testing.general import nicegui_reset_globals, prepare_simulation
from nicegui.testing.user import User

from learnscope.lab import LabConfig, LabState, register_pages


@asynccontextmanager
async def simulated_lab(state: LabState):
    """A User connected to a freshly registered lab app (NiceGUI's user_simulation, with our pages)."""
    with nicegui_reset_globals():
        os.environ["NICEGUI_USER_SIMULATION"] = "true"
        try:
            register_pages(state)
            prepare_simulation()
            ui.run(storage_secret="simulated secret")
            async with core.app.router.lifespan_context(core.app):
                transport = httpx.ASGITransport(core.app)
                async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                    yield User(client)
        finally:
            os.environ.pop("NICEGUI_USER_SIMULATION", None)
            ui.navigate, ui.notify, ui.download = Navigate(), notify, download


@pytest.fixture
def lab(tmp_path, shared_data_dir) -> LabState:
    config = LabConfig(data_dir=shared_data_dir, store=tmp_path / "runs.sqlite", models_dir=tmp_path / "models",
                       allow_download=False)
    state = LabState(config)
    yield state
    for job in state.jobs.values():         # a test that started training must not leave a thread running
        stop = getattr(job, "stop", None)
        if stop is not None:
            stop(wait=True)


@pytest.fixture
async def user(lab, caplog):
    async with simulated_lab(lab) as simulated_user:
        yield simulated_user
    errors = [record for record in caplog.get_records("call") if record.levelname == "ERROR"]
    assert not errors, f"the lab logged errors: {[record.getMessage() for record in errors]}"
