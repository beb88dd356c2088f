import os
import pytest
import test_admin_browser as t
from test_admin_browser import admin_site  # noqa

@pytest.mark.parametrize("rate", [int(r) for r in os.environ.get("RATES", "8").split()])
def test_throttled(admin_site, data_dir, page, rate):
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    t.test_draw_a_region_then_undo_it_from_the_history(admin_site, data_dir, page)
