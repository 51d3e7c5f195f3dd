"""Every hook a plugin can implement: the plugin contract.

Three kinds, each named in its docstring:

* **event**: something happened; every implementation runs. Where the hook is part
  of the deploy pipeline a failure aborts the deploy; otherwise ("isolated") a
  failure is reported with the plugin's name and the others still run.
* **decision**: `firstresult`; the first implementation that returns something
  other than None wins. Built-in defaults are `trylast` so an outside plugin wins.
* **collect**: every implementation returns a value; the caller gets the list.

Hooks are called with keyword arguments only. Arguments are a few stable objects
(`app`, `deploy`, `out`); new arguments may be added, none is ever renamed. Every
hook reaches the running appliance (`appliance.host.Appliance`: its hooks, plugins,
output and user): a hook about a deploy as `deploy.appliance`, every other hook as
its `appliance` argument, which an implementation takes only if it needs it.

Each docstring is the hook's whole documentation, in Markdown: it starts with the
kind (`Event (pipeline):`, `Event (isolated):`, `Decision:`, `Collect:`), says when
the hook fires, what to return, and which built-in plugins implement it.
`python scripts/plugin-docs.py` copies them into the hook reference of
docs/plugins.md; tests/unit/test_plugin_docs.py fails until it has.
"""

from __future__ import annotations

from appliance.markers import hookimpl, hookspec

from .apps import (
    appliance_app_created,
    appliance_app_destroy,
    appliance_app_domains,
    appliance_app_report,
    appliance_app_urls,
    appliance_ssh_command,
)
from .background import (
    appliance_daemon_start,
)
from .build import (
    appliance_build,
    appliance_build_options,
    appliance_build_source,
    appliance_builder_detect,
    appliance_post_build,
    appliance_pre_build,
)
from .containers import (
    appliance_app_containers,
    appliance_container_created,
    appliance_container_exec,
    appliance_container_logs,
    appliance_container_options,
    appliance_container_state,
    appliance_image_exists,
    appliance_image_prepare,
    appliance_run_oneoff,
    appliance_source_checkout,
)
from .deploy import (
    appliance_container_env,
    appliance_deploy_checks,
    appliance_deploy_failed,
    appliance_deploy_started,
    appliance_formation,
    appliance_post_deploy,
    appliance_pre_deploy,
    appliance_proxy_prepare,
    appliance_proxy_update,
    appliance_scheduler_abort,
    appliance_scheduler_retire,
    appliance_scheduler_start,
)
from .plugins import (
    appliance_plugin_installed,
    appliance_plugin_uninstalled,
)
from .proxy import (
    appliance_app_proxy,
    appliance_proxy_config,
    appliance_proxy_logs,
    appliance_proxy_names,
    appliance_proxy_removed,
    appliance_proxy_report,
    appliance_proxy_validate,
)
from .scheduler import (
    appliance_app_scheduler,
    appliance_scheduler_enter,
    appliance_scheduler_logs,
    appliance_scheduler_names,
    appliance_scheduler_oneoffs,
    appliance_scheduler_report,
    appliance_scheduler_run,
    appliance_scheduler_run_detached,
    appliance_scheduler_stop,
)

__all__ = [
    "appliance_app_containers",
    "appliance_app_created",
    "appliance_app_destroy",
    "appliance_app_domains",
    "appliance_app_proxy",
    "appliance_app_report",
    "appliance_app_scheduler",
    "appliance_app_urls",
    "appliance_build",
    "appliance_build_options",
    "appliance_build_source",
    "appliance_builder_detect",
    "appliance_container_created",
    "appliance_container_env",
    "appliance_container_exec",
    "appliance_container_logs",
    "appliance_container_options",
    "appliance_container_state",
    "appliance_daemon_start",
    "appliance_deploy_checks",
    "appliance_deploy_failed",
    "appliance_deploy_started",
    "appliance_formation",
    "appliance_image_exists",
    "appliance_image_prepare",
    "appliance_plugin_installed",
    "appliance_plugin_uninstalled",
    "appliance_post_build",
    "appliance_post_deploy",
    "appliance_pre_build",
    "appliance_pre_deploy",
    "appliance_proxy_config",
    "appliance_proxy_logs",
    "appliance_proxy_names",
    "appliance_proxy_prepare",
    "appliance_proxy_removed",
    "appliance_proxy_report",
    "appliance_proxy_update",
    "appliance_proxy_validate",
    "appliance_run_oneoff",
    "appliance_scheduler_abort",
    "appliance_scheduler_enter",
    "appliance_scheduler_logs",
    "appliance_scheduler_names",
    "appliance_scheduler_oneoffs",
    "appliance_scheduler_report",
    "appliance_scheduler_retire",
    "appliance_scheduler_run",
    "appliance_scheduler_run_detached",
    "appliance_scheduler_start",
    "appliance_scheduler_stop",
    "appliance_source_checkout",
    "appliance_ssh_command",
    "hookimpl",
    "hookspec",
]
