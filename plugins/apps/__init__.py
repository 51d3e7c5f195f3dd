"""Apps: the commands around an app's life, and its core facts in apps:report."""

from typing import Any

from appliance.api import App, hookimpl


@hookimpl(trylast=True)
def appliance_app_report(app: App) -> dict[str, Any]:
    core = app.settings.table("core")
    return {
        "App name": app.name,
        "Created": core.get("created_at", ""),
        "Deployed release": f"v{core['release']}" if "release" in core else "never deployed",
        "Deployed at": core.get("deployed_at", ""),
        "Deployed image": core.get("image", ""),
        "Deployed revision": core.get("rev", ""),
    }
