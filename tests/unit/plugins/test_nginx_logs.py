"""nginx:access-logs / nginx:error-logs read the per-app files under log_dir."""

from __future__ import annotations

from pathlib import Path

from appliance import state


def test_last_lines_of_the_app_logs(run, root: Path, tmp_path: Path) -> None:
    logs = tmp_path / "nginx-logs"
    logs.mkdir()
    state.global_settings().set("proxy-nginx", "log_dir", str(logs))
    assert run("apps:create", "hello").code == 0
    missing = run("nginx:access-logs", "hello")
    assert missing.code == 1 and "first request" in missing.err
    lines = [f'127.0.0.1 - - "GET /{i} HTTP/1.1" 200' for i in range(5000)]
    (logs / "hello-access.log").write_text("\n".join(lines) + "\n")
    (logs / "hello-error.log").write_text("upstream timed out\n")
    assert run("nginx:access-logs", "hello", "-n", "2").out.splitlines() == lines[-2:]
    assert run("nginx:access-logs", "hello", "-n", "0").out.splitlines() == lines
    assert len(run("nginx:access-logs", "hello").out.splitlines()) == 100
    assert run("nginx:error-logs", "hello").out == "upstream timed out\n"
