from collections import deque
from typing import Any

from appliance.api import Context, audit, validate

MAX_RECORDS = 10_000


def log(ctx: Context) -> int:
    def configure(p: Any) -> None:
        p.add_argument("--app")
        p.add_argument("--key")
        p.add_argument("-n", type=int, default=50, help=f"records to show (at most {MAX_RECORDS})")

    ns = ctx.parse(configure, formats=True)
    app = validate.app_name(ns.app) if ns.app is not None else None
    key = ns.key if ns.key is None or ns.key.startswith("local:") else validate.key_name(ns.key)
    if not 0 < ns.n <= MAX_RECORDS:
        from appliance.api import UserError

        raise UserError(f"-n must be between 1 and {MAX_RECORDS}")
    newest: deque[dict[str, Any]] = deque(maxlen=ns.n)
    for entry in audit.read():
        if (app is None or entry.get("app") == app) and (key is None or entry.get("key") == key):
            newest.append(entry)
    if ctx.out.json:
        ctx.out.data(list(newest))
        return 0
    rows = [
        [
            e.get("time", ""),
            e.get("key", ""),
            e.get("source", ""),
            " ".join([str(e.get("command", "")), *map(str, e.get("args", []))])[:120],
            e.get("outcome", ""),
            e.get("code", ""),
        ]
        for e in newest
    ]
    ctx.out.table(["TIME", "KEY", "FROM", "COMMAND", "OUTCOME", "CODE"], rows)
    return 0
