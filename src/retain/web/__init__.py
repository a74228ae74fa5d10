"""The dashboard: server-rendered pages over the services, served by the API's app (``create_app``).

Pages call services only (DESIGN.md §7) and the report's figure code for their charts; every asset, plotly.js
included, is served by retain itself, so the dashboard works without internet access.
"""

from retain.web.dashboard import DASHBOARD_PATH, install_dashboard

__all__ = ["DASHBOARD_PATH", "install_dashboard"]
